//! TEMPORARY: compare against qemu results in /tmp/fpdiff (not to be committed).
use crate::translate::translate_block;
use crate::CpuState;
use archway_ir::interp::{run_block, BlockExit};

#[test]
#[ignore]
fn qemu_cases() {
    let dir = std::env::var("FPDIFF").unwrap_or("/tmp/fpdiff".into());
    let cases = std::fs::read_to_string(format!("{dir}/cases.txt")).unwrap();
    let expected = std::fs::read_to_string(format!("{dir}/expected.txt")).unwrap();
    let mut failures = 0;
    let mut total = 0;
    let mut by_name = std::collections::BTreeMap::<&str, usize>::new();
    for (case, exp) in cases.lines().zip(expected.lines()) {
        total += 1;
        let f: Vec<u64> = case.split_whitespace().map(|s| u64::from_str_radix(s, 16).unwrap()).collect();
        let insn = f[0] as u32;
        let mut st = CpuState { fpcr: f[1] as u32, nzcv: f[2] as u32, ..Default::default() };
        for i in 0..4 {
            st.v[i] = [f[3 + 2 * i], f[4 + 2 * i]];
            st.x[i] = f[11 + i];
        }
        const PC: u64 = 0x1000;
        let fetch = |pc: u64| (pc == PC).then_some(insn);
        let block = translate_block(PC, &fetch);
        let exit = unsafe { run_block(&block, st.as_mut_ptr()) };
        let got = if matches!(exit, BlockExit::Trap { .. }) {
            "SIGILL".to_string()
        } else {
            let mut s = format!("{:x} {:x}", st.nzcv, st.fpsr);
            for i in 0..4 {
                s += &format!(" {:x} {:x}", st.v[i][0], st.v[i][1]);
            }
            for i in 0..4 {
                s += &format!(" {:x}", st.x[i]);
            }
            s
        };
        if got == "SIGILL" && exp != "SIGILL" {
            *by_name.entry("ours-sigill").or_default() += 1;
            if std::env::var("SHOW_SIGILL").is_ok() {
                eprintln!("SIGILL {case}");
            }
            continue;
        }
        if got != exp {
            failures += 1;
            let name = crate::decode::lookup(insn).map_or("?", |e| e.name);
            *by_name.entry(name).or_default() += 1;
            if failures <= 60 {
                eprintln!("{name} {case}\n   qemu: {exp}\n   ours: {got}");
            }
        }
    }
    eprintln!("{failures} failures of {total}: {by_name:?}");
    assert_eq!(failures, 0);
}
