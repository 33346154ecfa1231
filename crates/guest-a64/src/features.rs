//! The CPU archway presents to aarch64 guests.
//!
//! One place says which optional architecture features the translator implements, in
//! every form a guest can ask: `AT_HWCAP`/`AT_HWCAP2`, the `Features` line of
//! `/proc/cpuinfo`, and the ID registers `MRS` reads (Linux traps EL0 reads of the ID
//! space and emulates them with sanitised values; we answer the same way).
//!
//! The feature set is exactly: FP, ASIMD, CPUID (ID registers readable at EL0),
//! ATOMICS (LSE) and CRC32. Nothing else: no AES/SHA/PMULL, no FP16, no DotProd, no
//! RCpc, no pointer authentication, no BTI, no SVE, no MTE. Every value below must
//! agree with that list.

/// `AT_HWCAP` bits (Linux `arch/arm64/include/uapi/asm/hwcap.h`).
pub mod hwcap {
    pub const FP: u64 = 1 << 0;
    pub const ASIMD: u64 = 1 << 1;
    pub const CRC32: u64 = 1 << 7;
    pub const ATOMICS: u64 = 1 << 8;
    pub const CPUID: u64 = 1 << 11;
}

/// `AT_HWCAP` as the auxiliary vector passes it.
pub const HWCAP: u64 = hwcap::FP | hwcap::ASIMD | hwcap::CRC32 | hwcap::ATOMICS | hwcap::CPUID;

/// `AT_HWCAP2`: none of the features it describes are implemented.
pub const HWCAP2: u64 = 0;

/// The `Features` line of `/proc/cpuinfo`, in the kernel's order.
pub const CPUINFO_FEATURES: &str = "fp asimd crc32 atomics cpuid";

/// A system register's `op0:op1:CRn:CRm:op2`, packed as bits 20..5 of `MRS`/`MSR`/`SYS`
/// hold it (op0 in bits 15..14 of the result).
pub const fn sys_reg(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

/// `MIDR_EL1`: an Arm Neoverse N1 r3p1 (implementer 0x41 'A', variant 3, architecture
/// 0xf, part 0xd0c, revision 1). An Armv8.2 server core with LSE and CRC32, so tuning
/// code that keys on the part number picks paths this feature set can run; which
/// features exist is still decided by the ID registers and hwcaps, never by MIDR.
pub const MIDR_EL1: u64 = 0x413f_d0c1;

/// `CTR_EL0`: 64-byte I and D cache lines (IminLine = DminLine = 4), ERG = CWG = 4,
/// PIPT instruction cache, and IDC = DIC = 0 so guests that write code issue
/// `DC CVAU`/`IC IVAU` (both cheap here).
pub const CTR_EL0: u64 = 0x8444_c004;

/// `DCZID_EL0`: `DC ZVA` is permitted and zeroes 2^4 words = 64 bytes.
pub const DCZID_EL0: u64 = 4;

/// `CNTFRQ_EL0`: the generic timer runs at 1 GHz, so a `CNTVCT_EL0` tick is one
/// nanosecond of the host's `CLOCK_MONOTONIC` (see the helper behind `MRS CNTVCT_EL0`).
pub const CNTFRQ_EL0: u64 = 1_000_000_000;

/// A read-only system register EL0 may read, and its value.
#[derive(Clone, Copy, Debug)]
pub struct IdRegister {
    pub name: &'static str,
    /// Packed encoding from [`sys_reg`].
    pub encoding: u32,
    pub value: u64,
}

const fn id(name: &'static str, encoding: u32, value: u64) -> IdRegister {
    IdRegister { name, encoding, value }
}

/// Every read-only identification register `MRS` answers, with the value Linux would
/// show EL0 on a CPU with exactly this feature set (hidden fields at the kernel's
/// safe values).
pub const ID_REGISTERS: &[IdRegister] = &[
    id("MIDR_EL1", sys_reg(3, 0, 0, 0, 0), MIDR_EL1),
    // Linux shows only the RES1 bit 31 (`SYS_MPIDR_SAFE_VAL`).
    id("MPIDR_EL1", sys_reg(3, 0, 0, 0, 5), 0x8000_0000),
    id("REVIDR_EL1", sys_reg(3, 0, 0, 0, 6), 0),
    // EL0 = EL1 = 1 (AArch64 only), FP = 0 and AdvSIMD = 0 (implemented, no FP16).
    id("ID_AA64PFR0_EL1", sys_reg(3, 0, 0, 4, 0), 0x11),
    // No BTI, SSBS, MTE, SME.
    id("ID_AA64PFR1_EL1", sys_reg(3, 0, 0, 4, 1), 0),
    // No SVE.
    id("ID_AA64ZFR0_EL1", sys_reg(3, 0, 0, 4, 4), 0),
    // DebugVer = 6 (Armv8.0 debug), the kernel's safe value.
    id("ID_AA64DFR0_EL1", sys_reg(3, 0, 0, 5, 0), 0x6),
    // CRC32 [19:16] = 1, Atomic [23:20] = 2 (LSE); AES, SHA1, SHA2, RDM, DP... = 0.
    id("ID_AA64ISAR0_EL1", sys_reg(3, 0, 0, 6, 0), 0x0021_0000),
    // No DPB, PAC, JSCVT, FCMA, LRCPC, FRINTTS, SB, BF16, I8MM...
    id("ID_AA64ISAR1_EL1", sys_reg(3, 0, 0, 6, 1), 0),
    id("ID_AA64ISAR2_EL1", sys_reg(3, 0, 0, 6, 2), 0),
    // TGRAN4 and TGRAN64 read as 0xf, the kernel's safe values for hidden fields.
    id("ID_AA64MMFR0_EL1", sys_reg(3, 0, 0, 7, 0), 0xff00_0000),
    id("ID_AA64MMFR1_EL1", sys_reg(3, 0, 0, 7, 1), 0),
    id("ID_AA64MMFR2_EL1", sys_reg(3, 0, 0, 7, 2), 0),
    id("CTR_EL0", sys_reg(3, 3, 0, 0, 1), CTR_EL0),
    id("DCZID_EL0", sys_reg(3, 3, 0, 0, 7), DCZID_EL0),
    id("CNTFRQ_EL0", sys_reg(3, 3, 14, 0, 0), CNTFRQ_EL0),
];

/// The value `MRS` reads from the read-only register `encoding`, or `None` when it is
/// not one EL0 may read. Like Linux, any other register of the feature ID space
/// (op0 = 3, op1 = 0, CRn = 0, CRm = 1..7) reads as zero: "not implemented".
pub fn id_register(encoding: u32) -> Option<u64> {
    if let Some(reg) = ID_REGISTERS.iter().find(|r| r.encoding == encoding) {
        return Some(reg.value);
    }
    let crm = (encoding >> 3) & 0xf;
    let in_feature_id_space = encoding & !0x7f == sys_reg(3, 0, 0, 0, 0);
    (in_feature_id_space && crm != 0).then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(reg: &str, lsb: u32) -> u64 {
        let value = ID_REGISTERS.iter().find(|r| r.name == reg).unwrap().value;
        (value >> lsb) & 0xf
    }

    #[test]
    fn hwcap_lists_exactly_the_implemented_features() {
        assert_eq!(HWCAP, 0x983);
        assert_eq!(HWCAP2, 0);
    }

    #[test]
    fn id_registers_agree_with_hwcap() {
        assert_eq!(field("ID_AA64ISAR0_EL1", 4), 0, "AES");
        assert_eq!(field("ID_AA64ISAR0_EL1", 8), 0, "SHA1");
        assert_eq!(field("ID_AA64ISAR0_EL1", 12), 0, "SHA2");
        assert_eq!(field("ID_AA64ISAR0_EL1", 16), 1, "CRC32");
        assert_eq!(field("ID_AA64ISAR0_EL1", 20), 2, "Atomic");
        assert_eq!(field("ID_AA64PFR0_EL1", 16), 0, "FP");
        assert_eq!(field("ID_AA64PFR0_EL1", 20), 0, "AdvSIMD");
        assert_eq!(field("ID_AA64PFR0_EL1", 32), 0, "SVE");
        assert_eq!(field("ID_AA64PFR0_EL1", 0), 1, "EL0");
        assert_eq!(field("ID_AA64ISAR1_EL1", 4), 0, "APA");
        assert_eq!(field("ID_AA64ISAR1_EL1", 8), 0, "API");
    }

    #[test]
    fn unknown_feature_id_registers_read_as_zero() {
        assert_eq!(id_register(sys_reg(3, 0, 0, 6, 3)), Some(0)); // ID_AA64ISAR3_EL1
        assert_eq!(id_register(sys_reg(3, 0, 0, 0, 1)), None); // CRm = 0 is not emulated
        assert_eq!(id_register(sys_reg(3, 0, 1, 0, 0)), None); // SCTLR_EL1
        assert_eq!(id_register(sys_reg(3, 3, 0, 0, 1)), Some(CTR_EL0));
    }
}
