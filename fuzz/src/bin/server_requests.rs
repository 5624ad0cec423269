//! AFL entry point of the `server_requests` target (`cargo xtask fuzz server_requests`).

fn main() {
    crossgym_fuzz::afl_main("server_requests");
}
