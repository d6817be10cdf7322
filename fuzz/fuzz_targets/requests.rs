//! Arbitrary bytes as the request of every RPC: the first byte picks the method, the
//! rest is the body. Decoding, the hygiene walk and the conversion into a domain
//! command must answer, never panic.

#![no_main]

use hrplan::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let methods = fuzzing::methods();
    let method = methods[usize::from(which) % methods.len()];
    fuzzing::request(method, body);
});
