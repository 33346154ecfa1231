//! Optional host CPU features the back end uses when present.
//!
//! The emitted code must run on any x86_64 CPU, so instructions outside the x86_64
//! baseline are used only when CPUID reports them at startup; each has a baseline
//! fallback sequence. Tests pin a feature set so golden listings do not depend on
//! the machine they run on.

/// Which optional instructions the emitted code may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFeatures {
    /// `popcnt` (otherwise a SWAR bit count).
    pub popcnt: bool,
    /// `lzcnt` (otherwise `bsr` with a zero fix-up).
    pub lzcnt: bool,
    /// `lahf`/`sahf` in 64-bit mode (otherwise `pushfq; pop` to read host flags).
    pub lahf: bool,
    /// SSE4.1 (`pmulld`, `pmaxud`, `pminsb`, `pcmpeqq`...; otherwise the vector ops that
    /// need them call the reference implementation).
    pub sse41: bool,
    /// SSE4.2 (`pcmpgtq`, for 64-bit lane comparisons).
    pub sse42: bool,
}

impl HostFeatures {
    /// Only the x86_64 baseline (plus `lahf`, present on every x86_64 CPU except
    /// the earliest Pentium 4 and Athlon 64 steppings). SSE2 is part of the baseline.
    pub const BASELINE: HostFeatures =
        HostFeatures { popcnt: false, lzcnt: false, lahf: true, sse41: false, sse42: false };

    /// Nothing optional at all (the fallbacks everywhere).
    pub const NONE: HostFeatures =
        HostFeatures { popcnt: false, lzcnt: false, lahf: false, sse41: false, sse42: false };

    /// Every optional feature the back end knows.
    pub const ALL: HostFeatures = HostFeatures { popcnt: true, lzcnt: true, lahf: true, sse41: true, sse42: true };

    /// The features of the CPU we are running on.
    #[cfg(target_arch = "x86_64")]
    pub fn detect() -> HostFeatures {
        // CPUID leaf 0x8000_0001, ECX bit 0: LAHF/SAHF available in 64-bit mode.
        // SAFETY: CPUID exists on every x86_64 CPU (newer toolchains call it safe).
        #[allow(unused_unsafe)]
        let lahf = unsafe { core::arch::x86_64::__cpuid(0x8000_0001) }.ecx & 1 != 0;
        HostFeatures {
            popcnt: std::arch::is_x86_feature_detected!("popcnt"),
            lzcnt: std::arch::is_x86_feature_detected!("lzcnt"),
            lahf,
            sse41: std::arch::is_x86_feature_detected!("sse4.1"),
            sse42: std::arch::is_x86_feature_detected!("sse4.2"),
        }
    }

    /// Another host cannot run x86_64 code: the code generated there (listings, goldens)
    /// uses the baseline fallbacks.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn detect() -> HostFeatures {
        HostFeatures::NONE
    }
}
