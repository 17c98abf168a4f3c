//! The floor for reading a bundle: inflate a `.tar.gz` with the same gzip
//! decoder kdiag uses (flate2 on zlib-rs) and discard the bytes. Used by
//! `bench/scale.sh` as the baseline the analysis is measured against.
//!
//! `cargo run --release -p kdiag-bundle --example inflate FILE`
#![allow(clippy::unwrap_used)] // a benchmark tool: a bad argument panics

use std::io::Read;

fn main() {
    let path = std::env::args().nth(1).expect("usage: inflate FILE.tar.gz");
    let file = std::fs::File::open(&path).unwrap();
    let mut gz =
        flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(256 << 10, file));
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = gz.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    println!("{total}");
}
