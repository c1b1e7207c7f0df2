//! Unicode default case folding, full (the C and F mappings of CaseFolding.txt), in 2 KB.
//!
//! A char folds to its lowercase (core's `char::to_lowercase`, whose tables every build already
//! carries) except for the few hundred chars where folding and lowercasing differ: those are
//! listed below, as ranges that shift by a constant and as the chars that fold to several. The
//! `caseless` crate's full table (25 KB, most of it repeating what lowercase already says) was
//! the largest single item of the Worker's data; the tables here were made from it by comparing
//! it with `to_lowercase` on every scalar value, and a test repeats that comparison (caseless
//! stays as its oracle), printing the tables afresh if they ever disagree.

/// Ranges `(first, last, offset)`: each char of the range folds to itself plus `offset`.
pub(super) const FOLD_RANGES: [(u32, u32, i32); 28] = [
    (0x00B5, 0x00B5, 775),
    (0x017F, 0x017F, -268),
    (0x0345, 0x0345, 116),
    (0x03C2, 0x03C2, 1),
    (0x03D0, 0x03D0, -30),
    (0x03D1, 0x03D1, -25),
    (0x03D5, 0x03D5, -15),
    (0x03D6, 0x03D6, -22),
    (0x03F0, 0x03F0, -54),
    (0x03F1, 0x03F1, -48),
    (0x03F5, 0x03F5, -64),
    (0x13A0, 0x13F5, 0),
    (0x13F8, 0x13FD, -8),
    (0x1C80, 0x1C80, -6222),
    (0x1C81, 0x1C81, -6221),
    (0x1C82, 0x1C82, -6212),
    (0x1C83, 0x1C84, -6210),
    (0x1C85, 0x1C85, -6211),
    (0x1C86, 0x1C86, -6204),
    (0x1C87, 0x1C87, -6180),
    (0x1C88, 0x1C88, 35267),
    (0x1E9B, 0x1E9B, -58),
    (0x1FBE, 0x1FBE, -7173),
    (0xA7CE, 0xA7CE, 0),
    (0xA7D2, 0xA7D2, 0),
    (0xA7D4, 0xA7D4, 0),
    (0xAB70, 0xABBF, -38864),
    (0x16EA0, 0x16EB8, 0),
];
/// Chars that fold to more than one char (the F mappings of CaseFolding.txt), padded with NUL.
pub(super) const FOLD_MULTI: [(u32, [u32; 3]); 103] = [
    (0x00DF, [0x0073, 0x0073, 0x0000]),
    (0x0149, [0x02BC, 0x006E, 0x0000]),
    (0x01F0, [0x006A, 0x030C, 0x0000]),
    (0x0390, [0x03B9, 0x0308, 0x0301]),
    (0x03B0, [0x03C5, 0x0308, 0x0301]),
    (0x0587, [0x0565, 0x0582, 0x0000]),
    (0x1E96, [0x0068, 0x0331, 0x0000]),
    (0x1E97, [0x0074, 0x0308, 0x0000]),
    (0x1E98, [0x0077, 0x030A, 0x0000]),
    (0x1E99, [0x0079, 0x030A, 0x0000]),
    (0x1E9A, [0x0061, 0x02BE, 0x0000]),
    (0x1E9E, [0x0073, 0x0073, 0x0000]),
    (0x1F50, [0x03C5, 0x0313, 0x0000]),
    (0x1F52, [0x03C5, 0x0313, 0x0300]),
    (0x1F54, [0x03C5, 0x0313, 0x0301]),
    (0x1F56, [0x03C5, 0x0313, 0x0342]),
    (0x1F80, [0x1F00, 0x03B9, 0x0000]),
    (0x1F81, [0x1F01, 0x03B9, 0x0000]),
    (0x1F82, [0x1F02, 0x03B9, 0x0000]),
    (0x1F83, [0x1F03, 0x03B9, 0x0000]),
    (0x1F84, [0x1F04, 0x03B9, 0x0000]),
    (0x1F85, [0x1F05, 0x03B9, 0x0000]),
    (0x1F86, [0x1F06, 0x03B9, 0x0000]),
    (0x1F87, [0x1F07, 0x03B9, 0x0000]),
    (0x1F88, [0x1F00, 0x03B9, 0x0000]),
    (0x1F89, [0x1F01, 0x03B9, 0x0000]),
    (0x1F8A, [0x1F02, 0x03B9, 0x0000]),
    (0x1F8B, [0x1F03, 0x03B9, 0x0000]),
    (0x1F8C, [0x1F04, 0x03B9, 0x0000]),
    (0x1F8D, [0x1F05, 0x03B9, 0x0000]),
    (0x1F8E, [0x1F06, 0x03B9, 0x0000]),
    (0x1F8F, [0x1F07, 0x03B9, 0x0000]),
    (0x1F90, [0x1F20, 0x03B9, 0x0000]),
    (0x1F91, [0x1F21, 0x03B9, 0x0000]),
    (0x1F92, [0x1F22, 0x03B9, 0x0000]),
    (0x1F93, [0x1F23, 0x03B9, 0x0000]),
    (0x1F94, [0x1F24, 0x03B9, 0x0000]),
    (0x1F95, [0x1F25, 0x03B9, 0x0000]),
    (0x1F96, [0x1F26, 0x03B9, 0x0000]),
    (0x1F97, [0x1F27, 0x03B9, 0x0000]),
    (0x1F98, [0x1F20, 0x03B9, 0x0000]),
    (0x1F99, [0x1F21, 0x03B9, 0x0000]),
    (0x1F9A, [0x1F22, 0x03B9, 0x0000]),
    (0x1F9B, [0x1F23, 0x03B9, 0x0000]),
    (0x1F9C, [0x1F24, 0x03B9, 0x0000]),
    (0x1F9D, [0x1F25, 0x03B9, 0x0000]),
    (0x1F9E, [0x1F26, 0x03B9, 0x0000]),
    (0x1F9F, [0x1F27, 0x03B9, 0x0000]),
    (0x1FA0, [0x1F60, 0x03B9, 0x0000]),
    (0x1FA1, [0x1F61, 0x03B9, 0x0000]),
    (0x1FA2, [0x1F62, 0x03B9, 0x0000]),
    (0x1FA3, [0x1F63, 0x03B9, 0x0000]),
    (0x1FA4, [0x1F64, 0x03B9, 0x0000]),
    (0x1FA5, [0x1F65, 0x03B9, 0x0000]),
    (0x1FA6, [0x1F66, 0x03B9, 0x0000]),
    (0x1FA7, [0x1F67, 0x03B9, 0x0000]),
    (0x1FA8, [0x1F60, 0x03B9, 0x0000]),
    (0x1FA9, [0x1F61, 0x03B9, 0x0000]),
    (0x1FAA, [0x1F62, 0x03B9, 0x0000]),
    (0x1FAB, [0x1F63, 0x03B9, 0x0000]),
    (0x1FAC, [0x1F64, 0x03B9, 0x0000]),
    (0x1FAD, [0x1F65, 0x03B9, 0x0000]),
    (0x1FAE, [0x1F66, 0x03B9, 0x0000]),
    (0x1FAF, [0x1F67, 0x03B9, 0x0000]),
    (0x1FB2, [0x1F70, 0x03B9, 0x0000]),
    (0x1FB3, [0x03B1, 0x03B9, 0x0000]),
    (0x1FB4, [0x03AC, 0x03B9, 0x0000]),
    (0x1FB6, [0x03B1, 0x0342, 0x0000]),
    (0x1FB7, [0x03B1, 0x0342, 0x03B9]),
    (0x1FBC, [0x03B1, 0x03B9, 0x0000]),
    (0x1FC2, [0x1F74, 0x03B9, 0x0000]),
    (0x1FC3, [0x03B7, 0x03B9, 0x0000]),
    (0x1FC4, [0x03AE, 0x03B9, 0x0000]),
    (0x1FC6, [0x03B7, 0x0342, 0x0000]),
    (0x1FC7, [0x03B7, 0x0342, 0x03B9]),
    (0x1FCC, [0x03B7, 0x03B9, 0x0000]),
    (0x1FD2, [0x03B9, 0x0308, 0x0300]),
    (0x1FD3, [0x03B9, 0x0308, 0x0301]),
    (0x1FD6, [0x03B9, 0x0342, 0x0000]),
    (0x1FD7, [0x03B9, 0x0308, 0x0342]),
    (0x1FE2, [0x03C5, 0x0308, 0x0300]),
    (0x1FE3, [0x03C5, 0x0308, 0x0301]),
    (0x1FE4, [0x03C1, 0x0313, 0x0000]),
    (0x1FE6, [0x03C5, 0x0342, 0x0000]),
    (0x1FE7, [0x03C5, 0x0308, 0x0342]),
    (0x1FF2, [0x1F7C, 0x03B9, 0x0000]),
    (0x1FF3, [0x03C9, 0x03B9, 0x0000]),
    (0x1FF4, [0x03CE, 0x03B9, 0x0000]),
    (0x1FF6, [0x03C9, 0x0342, 0x0000]),
    (0x1FF7, [0x03C9, 0x0342, 0x03B9]),
    (0x1FFC, [0x03C9, 0x03B9, 0x0000]),
    (0xFB00, [0x0066, 0x0066, 0x0000]),
    (0xFB01, [0x0066, 0x0069, 0x0000]),
    (0xFB02, [0x0066, 0x006C, 0x0000]),
    (0xFB03, [0x0066, 0x0066, 0x0069]),
    (0xFB04, [0x0066, 0x0066, 0x006C]),
    (0xFB05, [0x0073, 0x0074, 0x0000]),
    (0xFB06, [0x0073, 0x0074, 0x0000]),
    (0xFB13, [0x0574, 0x0576, 0x0000]),
    (0xFB14, [0x0574, 0x0565, 0x0000]),
    (0xFB15, [0x0574, 0x056B, 0x0000]),
    (0xFB16, [0x057E, 0x0576, 0x0000]),
    (0xFB17, [0x0574, 0x056D, 0x0000]),
];

/// The full case folding of `c`, pushed to `out`.
pub(super) fn fold_into(c: char, out: &mut Vec<char>) {
    let cp = u32::from(c);
    let range = FOLD_RANGES
        .binary_search_by(|&(first, last, _)| {
            if last < cp {
                core::cmp::Ordering::Less
            } else if first > cp {
                core::cmp::Ordering::Greater
            } else {
                core::cmp::Ordering::Equal
            }
        })
        .ok()
        .and_then(|at| FOLD_RANGES.get(at));
    if let Some(&(_, _, offset)) = range {
        // Every offset lands on a scalar value (the tests check the whole range).
        out.push(char::from_u32(cp.wrapping_add_signed(offset)).unwrap_or(c));
        return;
    }
    if let Ok(at) = FOLD_MULTI.binary_search_by_key(&cp, |&(from, _)| from) {
        if let Some((_, to)) = FOLD_MULTI.get(at) {
            out.extend(
                to.iter()
                    .filter(|&&u| u != 0)
                    .filter_map(|&u| char::from_u32(u)),
            );
            return;
        }
    }
    out.extend(c.to_lowercase());
}

#[cfg(test)]
mod tests {
    use caseless::Caseless;

    use super::*;

    /// The tables as they should be, from caseless and `to_lowercase` (printed on a mismatch).
    fn tables_from_the_oracle() -> String {
        let mut ranges: Vec<(u32, u32, i64)> = Vec::new();
        let mut multis = String::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let fold: Vec<char> = core::iter::once(c).default_case_fold().collect();
            if fold.iter().copied().eq(c.to_lowercase()) {
                continue;
            }
            let cp = u32::from(c);
            match fold.as_slice() {
                [one] => {
                    let offset = i64::from(u32::from(*one)) - i64::from(cp);
                    match ranges.last_mut() {
                        Some(last) if last.1 + 1 == cp && last.2 == offset => last.1 = cp,
                        _ => ranges.push((cp, cp, offset)),
                    }
                }
                many => {
                    let mut to = [0u32; 3];
                    for (slot, c) in to.iter_mut().zip(many) {
                        *slot = u32::from(*c);
                    }
                    multis.push_str(&format!(
                        "    (0x{cp:04X}, [0x{:04X}, 0x{:04X}, 0x{:04X}]),\n",
                        to[0], to[1], to[2]
                    ));
                }
            }
        }
        let ranges: String = ranges
            .iter()
            .map(|(a, b, d)| format!("    (0x{a:04X}, 0x{b:04X}, {d}),\n"))
            .collect();
        format!("FOLD_RANGES:\n{ranges}FOLD_MULTI:\n{multis}")
    }

    #[test]
    fn folding_agrees_with_caseless_on_every_scalar_value() {
        let mut differ = Vec::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut ours = Vec::new();
            fold_into(c, &mut ours);
            let oracle: Vec<char> = core::iter::once(c).default_case_fold().collect();
            if ours != oracle {
                differ.push(c);
            }
        }
        assert!(
            differ.is_empty(),
            "{} chars fold differently, from U+{:04X}; the tables should read:\n{}",
            differ.len(),
            differ.first().map_or(0, |c| u32::from(*c)),
            tables_from_the_oracle()
        );
    }

    #[test]
    fn the_tables_are_sorted_and_every_range_shifts_onto_scalar_values() {
        assert!(FOLD_RANGES.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(FOLD_MULTI.windows(2).all(|w| w[0].0 < w[1].0));
        for (first, last, offset) in FOLD_RANGES {
            assert!(first <= last);
            for cp in first..=last {
                assert!(
                    char::from_u32(cp.wrapping_add_signed(offset)).is_some(),
                    "U+{cp:04X}"
                );
            }
        }
    }
}
