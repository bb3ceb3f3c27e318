//! Strict integer parsing and fast integer formatting.

/// Parses a signed 64-bit decimal integer with the same strictness as Redis'
/// `string2ll`: an optional `-`, then digits with no leading zero (except the
/// single string `"0"`), no `+`, no whitespace, no overflow. `"-0"` is rejected.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    // Accumulate as a negative number so i64::MIN is representable.
    let mut acc: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg {
        Some(acc)
    } else {
        acc.checked_neg()
    }
}

/// Appends the decimal form of `v` to `out`.
pub(crate) fn write_i64(out: &mut impl bytes::BufMut, v: i64) {
    out.put_slice(format_i64(v, &mut [0u8; 20]));
}

/// "00", "01", ... "99" back to back.
pub(crate) static DIGIT_PAIRS: [u8; 200] = *b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The decimal text of `v`, written into the end of `buf` (20 bytes hold any
/// i64, sign included).
pub fn format_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    // Two digits per division: lengths and counts on the wire (LPUSH's
    // new length, say) run to several digits.
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_i64_matches_display() {
        for v in [0, 1, -1, 9, 10, -10, 99, 100, -101, 12345, 999_999, 1_000_000, i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(format_i64(v, &mut [0u8; 20]), v.to_string().as_bytes());
        }
    }

    #[test]
    fn parse_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"123"), Some(123));
        assert_eq!(parse_i64(b"-123"), Some(-123));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn write_roundtrip() {
        for v in [0, 1, -1, 9, 10, -10, 1234567, i64::MAX, i64::MIN] {
            let mut b = bytes::BytesMut::new();
            write_i64(&mut b, v);
            assert_eq!(&b[..], v.to_string().as_bytes());
        }
    }
}
