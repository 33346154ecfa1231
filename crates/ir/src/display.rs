//! Text form of IR for logs and tests.
