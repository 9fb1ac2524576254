#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../targets/engine.rs");

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_engine(data, None);
});
