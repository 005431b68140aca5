//! JSON text written directly into a buffer, for the rows of long lists.
//!
//! serde_json escapes a string by looking every byte up in a table; over a
//! 10,000-alarm list that is a fifth of the response's CPU. Most list text
//! needs no escape at all, so [`push_str`] checks eight bytes at a time and
//! copies runs whole. Its output is byte for byte serde_json's (a test holds
//! them equal), so a row written here reads the same as one serialised.

/// Appends `s` as a JSON string, quoted and escaped exactly as serde_json
/// writes it: `"` and `\` by a backslash, `\b \f \n \r \t` by name, the other
/// control characters as `\u00xx`; everything else, non-ASCII included, as is.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let (mut run, mut i) = (0, 0);
    while i < b.len() {
        if let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())
            && !needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        let c = b[i];
        let named: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[run..i]);
        if named.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(named);
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// True when one of the eight bytes of `w` is a control character, `"` or `\`
/// (bytes of multi-byte characters, 0x80 and above, never are).
fn needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte below n (n <= 128) sets its high bit in (x - n) & !x.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    // A byte equal to c is a zero byte of x ^ c.
    let equal = |c: u8| below(w ^ (ONES * u64::from(c)), 1);
    (below(w, 0x20) | equal(b'"') | equal(b'\\')) != 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ours(s: &str) -> String {
        let mut v = Vec::new();
        push_str(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn every_ascii_character_is_written_as_serde_json_writes_it() {
        for c in 0u8..=0x7f {
            let c = char::from(c);
            // Alone, inside runs that the eight-byte check skips, and at the
            // edges of those runs.
            for s in [
                c.to_string(),
                format!("abcdefgh{c}ijklmnop"),
                format!("abcdefg{c}"),
                format!("{c}bcdefghijklmnopq"),
                format!("{c}{c}{c}{c}{c}{c}{c}{c}{c}"),
            ] {
                assert_eq!(ours(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
            }
        }
    }

    #[test]
    fn text_of_every_width_matches_serde_json() {
        let samples = [
            "",
            "Platform CPU threshold exceeded; threshold 90.00%, actual 96.42%",
            "host=controller-0.port=eth0",
            "naïve café – ✓ 日本語 🚀 and a \"quote\" \\ back\tslash\n",
            "\u{7f}\u{80}\u{ff}\u{100}\u{2028}\u{2029}\u{fffd}",
            "\u{1}\u{1f}\u{20}\u{21}",
        ];
        for s in samples {
            for cut in 0..s.len() {
                if s.is_char_boundary(cut) {
                    let t = &s[cut..];
                    assert_eq!(ours(t), serde_json::to_string(t).unwrap(), "{t:?}");
                }
            }
        }
    }
}
