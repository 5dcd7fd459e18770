//! Config files cross a trust boundary (RELIABILITY.md case 34): no input makes the parser panic.

use proptest::prelude::*;

use crate::support::structure;

const EXAMPLE: &str = include_str!("../../../../config/gateway.example.toml");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = structure(&text);
    }

    #[test]
    fn toml_shaped_text_never_panics(text in "(\\[{1,2}[a-z._]{0,12}\\]{0,2}\n|[a-z_]{1,12} = (\"[^\"\n]{0,20}\"|[0-9-]{1,5}|\\[[^\n]{0,20}\\]|\\{[^\n]{0,20}\\})\n){0,20}") {
        let _ = structure(&text);
    }

    #[test]
    fn a_mangled_example_never_panics(cut in 0usize..6000, insert in "[\\[\\]{}=\",\n a-z0-9]{0,8}") {
        let mut text = EXAMPLE.to_owned();
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, &insert);
        let _ = structure(&text);
    }
}
