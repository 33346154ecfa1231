//! Prints the crate's results: the run under archway is compared with this output.
fn main() {
    println!("sum_squares {}", rustprobe::parallel_sum_squares(100_000, 8));
    println!("counts {:?}", rustprobe::contended_counts(4, 10_000));
    std::panic::set_hook(Box::new(|_| {}));
    println!("checked_divide {:?} {:?}", rustprobe::checked_divide(84, 2), rustprobe::checked_divide(1, 0));
    println!("arch {}", std::env::consts::ARCH);
}
