#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../targets/capture_link.rs");

fuzz_target!(|data: &[u8]| {
    let _ = fuzz_capture_link(data);
});
