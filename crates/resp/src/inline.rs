//! Splitting of inline requests (`SET foo "bar baz"\r\n`) into arguments.
//!
//! The rules follow what redis-cli and Redis' inline protocol accept:
//! arguments are separated by whitespace; `"double quotes"` understand the
//! escapes `\n \r \t \b \a \xHH` and `\<any>` (which yields `<any>`, so `\\`
//! and `\"` work); `'single quotes'` only understand `\'`. Quotes may start in
//! the middle of an argument (`a"b c"` is the single argument `ab c`), but a
//! closing quote must be followed by whitespace or the end of the line.
//! Like Redis (which treats the line as a C string) a NUL byte ends the line.

use bytes::Bytes;

use crate::ProtocolError;

/// C `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits one inline request line (without its line terminator) into
/// arguments. An empty or all-whitespace line gives an empty vector.
pub(crate) fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, ProtocolError> {
    let line = match line.iter().position(|&c| c == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let Some(c) = at(i) else {
                if in_double || in_single {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                break;
            };
            if in_double {
                match (c, at(i + 1)) {
                    (b'\\', Some(b'x')) => {
                        match (at(i + 2).and_then(hex_value), at(i + 3).and_then(hex_value)) {
                            (Some(hi), Some(lo)) => {
                                arg.push(hi << 4 | lo);
                                i += 3;
                            }
                            // Not a valid \xHH: the backslash escapes the 'x'.
                            _ => {
                                arg.push(b'x');
                                i += 1;
                            }
                        }
                    }
                    (b'\\', Some(e)) => {
                        arg.push(match e {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        i += 1;
                    }
                    (b'"', next) => {
                        if next.is_some_and(|n| !is_space(n)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    _ => arg.push(c),
                }
            } else if in_single {
                match (c, at(i + 1)) {
                    (b'\\', Some(b'\'')) => {
                        arg.push(b'\'');
                        i += 1;
                    }
                    (b'\'', next) => {
                        if next.is_some_and(|n| !is_space(n)) {
                            return Err(ProtocolError::UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    _ => arg.push(c),
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => arg.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(arg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Result<Vec<Vec<u8>>, ProtocolError> {
        split_inline(s).map(|v| v.into_iter().map(|b| b.to_vec()).collect())
    }

    fn ok(s: &[u8], want: &[&[u8]]) {
        let got = split(s).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(s)));
        let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
        assert_eq!(got, want, "splitting {:?}", String::from_utf8_lossy(s));
    }

    #[test]
    fn plain_words() {
        ok(b"", &[]);
        ok(b"   \t ", &[]);
        ok(b"PING", &[b"PING"]);
        ok(b"  set  foo\tbar  ", &[b"set", b"foo", b"bar"]);
        ok(b"a\x0bb", &[b"a\x0bb"]);
        ok(b"a\x0b b", &[b"a\x0b", b"b"]);
    }

    #[test]
    fn double_quotes() {
        ok(br#"set k "hello world""#, &[b"set", b"k", b"hello world"]);
        ok(br#""a\nb\r\t\b\a\\\"z""#, &[b"a\nb\r\t\x08\x07\\\"z"]);
        ok(br#""\x41\x7a\x00\xff""#, &[b"Az\x00\xff"]);
        ok(br#""\xZZ""#, &[b"xZZ"]);
        ok(br#""\q""#, &[b"q"]);
        ok(br#""""#, &[b""]);
        ok(br#"a"b c""#, &[b"ab c"]);
        ok(br#"x "" y"#, &[b"x", b"", b"y"]);
    }

    #[test]
    fn single_quotes() {
        ok(br#"set k 'it\'s here'"#, &[b"set", b"k", b"it's here"]);
        ok(br#"'a\nb'"#, &[b"a\\nb"]);
        ok(br#"'"'"#, &[b"\""]);
        ok(b"''", &[b""]);
    }

    #[test]
    fn unbalanced() {
        for bad in [
            &br#"set "foo"#[..],
            br#"set 'foo"#,
            br#""foo"bar"#,
            br#"'foo'bar"#,
            br#""foo\""#,
            br#""ab\"#,
        ] {
            assert_eq!(
                split(bad),
                Err(ProtocolError::UnbalancedQuotes),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn nul_ends_line() {
        ok(b"get a\0b c", &[b"get", b"a"]);
    }
}
