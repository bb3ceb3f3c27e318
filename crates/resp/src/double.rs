//! Formatting of doubles the way C's `printf("%.17g")` does.
//!
//! Redis 7.0 formats double replies (RESP2 bulk strings and RESP3 `,` values)
//! with `%.17g`. We get the 17 correctly rounded significant digits and the
//! decimal exponent from Rust's exact `{:.16e}` formatting, then apply the
//! `%g` rules: fixed notation when `-4 <= exp < 17`, scientific otherwise,
//! trailing zeros (and a trailing '.') removed, exponent with a sign and at
//! least two digits.

/// Number of significant digits, the `17` of `%.17g`.
const PRECISION: i32 = 17;

/// C `printf("%.17g", v)` equivalent, with infinities as `inf`/`-inf` and any
/// NaN as `nan`.
///
/// Examples: `1.1` → `1.1000000000000001`, `3.0` → `3`, `1e20` → `1e+20`,
/// `0.0001` → `0.0001`, `1e-5` → `1.0000000000000001e-05`, `-0.0` → `-0`.
pub fn format_double_g17(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // e.g. "-1.2345678901234568e17": sign, 17 digits, exponent after rounding.
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    debug_assert_eq!(digits.len(), PRECISION as usize);

    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if (-4..PRECISION).contains(&exp) {
        // Fixed notation with PRECISION significant digits.
        let (int_part, frac_part): (Vec<u8>, Vec<u8>) = if exp >= 0 {
            let split = exp as usize + 1;
            (digits[..split].to_vec(), digits[split..].to_vec())
        } else {
            let mut frac = vec![b'0'; (-exp - 1) as usize];
            frac.extend_from_slice(&digits);
            (vec![b'0'], frac)
        };
        out.push_str(std::str::from_utf8(&int_part).expect("ascii digits"));
        push_trimmed_fraction(&mut out, &frac_part);
    } else {
        out.push(char::from(digits[0]));
        push_trimmed_fraction(&mut out, &digits[1..]);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    }
    out
}

/// Appends `.` and `frac` without its trailing zeros, or nothing if all zeros.
fn push_trimmed_fraction(out: &mut String, frac: &[u8]) {
    let end = frac.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    if end > 0 {
        out.push('.');
        out.push_str(std::str::from_utf8(&frac[..end]).expect("ascii digits"));
    }
}

#[cfg(test)]
mod tests {
    use super::format_double_g17 as g;

    #[test]
    fn vectors_from_redis_behaviour() {
        let cases: &[(f64, &str)] = &[
            (1.1, "1.1000000000000001"),
            (3.0, "3"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (1e-5, "1.0000000000000001e-05"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-f64::NAN, "nan"),
            (0.0, "0"),
            (-0.0, "-0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.1, "0.10000000000000001"),
            (-0.1, "-0.10000000000000001"),
            (-1.5, "-1.5"),
            (-3.0, "-3"),
            (10.5, "10.5"),
            (100.0, "100"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (0.00012345, "0.00012344999999999999"),
            (0.000012345, "1.2345e-05"),
            (1e100, "1e+100"),
            (1e-100, "1e-100"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (2f64.powi(-25), "2.9802322387695312e-08"),
            (2.71, "2.71"),
            (-2.5e-7, "-2.4999999999999999e-07"),
            (1e21, "1e+21"),
            (9.999999999999999e16, "99999999999999984"),
        ];
        for &(v, want) in cases {
            assert_eq!(g(v), want, "formatting {v:e}");
        }
    }

    #[test]
    fn roundtrips_through_parse() {
        for v in [
            1.1,
            -7.25e-300,
            6.02214076e23,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            42.0,
        ] {
            assert_eq!(g(v).parse::<f64>().unwrap(), v);
        }
    }
}
