//! Property tests: bundles with arbitrary raw outputs (any bytes) survive write and read.

use pgfarm_model::{Bundle, RawText};
use proptest::prelude::*;

use crate::samples::SAMPLES;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_raw_outputs_round_trip_through_gzip_and_json(
        log in proptest::collection::vec(any::<u8>(), 0..512),
        actual in ".{0,200}",
        stream in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bundle = (SAMPLES[1].1)();
        bundle.stages[0].log = RawText::from_bytes(log.clone());
        bundle.regress[0].actual = RawText::from(actual.clone());
        bundle.server_log = RawText::from_bytes(stream.clone());
        let from_gzip = Bundle::from_slice(&bundle.to_gzip_vec()).unwrap();
        prop_assert_eq!(&from_gzip, &bundle);
        prop_assert_eq!(from_gzip.stages[0].log.as_bytes(), &log[..]);
        prop_assert_eq!(from_gzip.server_log.as_bytes(), &stream[..]);
        let from_json = Bundle::from_slice(&bundle.to_json_vec()).unwrap();
        prop_assert_eq!(from_json.regress[0].actual.as_str(), Some(actual.as_str()));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Bundle::from_slice(&bytes);
        let mut gz = vec![0x1f, 0x8b];
        gz.extend(&bytes);
        let _ = Bundle::from_slice(&gz);
    }
}
