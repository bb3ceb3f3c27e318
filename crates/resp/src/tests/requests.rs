use crate::{Bytes, BytesMut, Limits, ProtocolError, RequestParser};

fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

/// Parses everything in `input` in one go; returns the commands and the
/// first error, if any.
fn parse_all(input: &[u8]) -> (Vec<Vec<Bytes>>, Option<ProtocolError>, BytesMut) {
    parse_all_with(Limits::default(), input)
}

fn parse_all_with(
    limits: Limits,
    input: &[u8],
) -> (Vec<Vec<Bytes>>, Option<ProtocolError>, BytesMut) {
    let mut p = RequestParser::new(limits);
    let mut buf = BytesMut::from(input);
    let mut cmds = Vec::new();
    loop {
        match p.next_command(&mut buf) {
            Ok(Some(c)) => cmds.push(c),
            Ok(None) => return (cmds, None, buf),
            Err(e) => return (cmds, Some(e), buf),
        }
    }
}

fn err_of(input: &[u8]) -> ProtocolError {
    parse_all(input)
        .1
        .unwrap_or_else(|| panic!("no error for {:?}", String::from_utf8_lossy(input)))
}

fn small_limits() -> Limits {
    Limits {
        max_bulk_len: 100,
        max_array_len: 10,
        max_inline_len: 64,
    }
}

#[test]
fn simple_multibulk() {
    let (cmds, err, rest) = parse_all(b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&[b"SET", b"foo", b"bar"])]);
    assert!(rest.is_empty());
}

#[test]
fn empty_bulk_and_binary_payload() {
    let (cmds, err, _) = parse_all(b"*3\r\n$0\r\n\r\n$6\r\na\r\nb\0c\r\n$1\r\n\0\r\n");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&[b"", b"a\r\nb\0c", b"\0"])]);
}

#[test]
fn pipelined_frames_in_one_buffer() {
    let input = b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\n*0\r\n*-1\r\nGET k\n*1\r\n$4\r\nQU";
    let (cmds, err, rest) = parse_all(input);
    assert_eq!(err, None);
    assert_eq!(
        cmds,
        vec![
            argv(&[b"PING"]),
            argv(&[b"PING"]),
            argv(&[b"ECHO", b"hi"]),
            argv(&[b"GET", b"k"]),
        ]
    );
    // The completed header of the partial frame was consumed.
    assert_eq!(&rest[..], b"QU");
}

#[test]
fn partial_frames_byte_by_byte() {
    let input: &[u8] = b"*3\r\n$3\r\nSET\r\n$5\r\nk\r\ney\r\n$10\r\n0123456789\r\nPING\r\n  echo \"a b\"  \r\n*-1\r\n\r\n*1\r\n$0\r\n\r\n";
    let mut p = RequestParser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    for &b in input {
        buf.extend_from_slice(&[b]);
        while let Some(c) = p.next_command(&mut buf).unwrap() {
            cmds.push(c);
        }
    }
    assert!(buf.is_empty());
    assert!(!p.in_progress());
    assert_eq!(
        cmds,
        vec![
            argv(&[b"SET", b"k\r\ney", b"0123456789"]),
            argv(&[b"PING"]),
            argv(&[b"echo", b"a b"]),
            argv(&[b""]),
        ]
    );
}

#[test]
fn big_bulk_state_is_kept_between_reads() {
    let payload = vec![b'x'; 100_000];
    let mut frame = b"*2\r\n$3\r\nSET\r\n$100000\r\n".to_vec();
    frame.extend_from_slice(&payload);
    frame.extend_from_slice(b"\r\n");
    let mut p = RequestParser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut result = None;
    for chunk in frame.chunks(4096) {
        assert!(result.is_none());
        buf.extend_from_slice(chunk);
        result = p.next_command(&mut buf).unwrap();
        if result.is_none() {
            // Headers and the first argument are consumed as soon as complete.
            assert_eq!(p.bytes_wanted(), Some(100_002));
            assert!(buf.len() < 100_002);
        }
    }
    assert_eq!(
        result.unwrap(),
        vec![Bytes::from_static(b"SET"), Bytes::from(payload)]
    );
    assert!(buf.is_empty());
    assert_eq!(p.bytes_wanted(), None);
}

#[test]
fn empty_and_null_multibulk_are_skipped() {
    let (cmds, err, rest) = parse_all(b"*0\r\n*-1\r\n*-5\r\n");
    assert_eq!((cmds.len(), err), (0, None));
    assert!(rest.is_empty());
}

#[test]
fn empty_inline_lines_are_skipped() {
    let (cmds, err, rest) = parse_all(b"\r\n\n   \r\n\t\nPING\n");
    assert_eq!(err, None);
    assert_eq!(cmds, vec![argv(&[b"PING"])]);
    assert!(rest.is_empty());
}

#[test]
fn inline_commands() {
    let (cmds, err, _) = parse_all(
        b"set key \"hello\\r\\n\\x00world\"\r\nset 'it\\'s' \"\\\"q\\\"\"\nGET   a\tb\r\n\"\"\r\n",
    );
    assert_eq!(err, None);
    assert_eq!(
        cmds,
        vec![
            argv(&[b"set", b"key", b"hello\r\n\0world"]),
            argv(&[b"set", b"it's", b"\"q\""]),
            argv(&[b"GET", b"a", b"b"]),
            argv(&[b""]),
        ]
    );
}

#[test]
fn inline_partial_waits_for_newline() {
    let mut p = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(&b"GET fo"[..]);
    assert_eq!(p.next_command(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"GET fo");
    buf.extend_from_slice(b"o\r");
    assert_eq!(p.next_command(&mut buf), Ok(None));
    buf.extend_from_slice(b"\n");
    assert_eq!(p.next_command(&mut buf), Ok(Some(argv(&[b"GET", b"foo"]))));
}

#[test]
fn unbalanced_quotes() {
    assert_eq!(err_of(b"set \"foo\r\n"), ProtocolError::UnbalancedQuotes);
    assert_eq!(err_of(b"set 'foo\n"), ProtocolError::UnbalancedQuotes);
    assert_eq!(err_of(b"set \"foo\"bar\n"), ProtocolError::UnbalancedQuotes);
    assert_eq!(
        ProtocolError::UnbalancedQuotes.to_string(),
        "Protocol error: unbalanced quotes in request"
    );
}

#[test]
fn invalid_multibulk_length() {
    for input in [
        &b"*abc\r\n"[..],
        b"*\r\n",
        b"*1x\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*-0\r\n",
        b"* 1\r\n",
        b"*99999999999999999999\r\n",
    ] {
        assert_eq!(
            err_of(input),
            ProtocolError::InvalidMultibulkLength,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // Over the limit: default is 1024*1024.
    assert_eq!(
        err_of(b"*1048577\r\n"),
        ProtocolError::InvalidMultibulkLength
    );
    assert_eq!(parse_all(b"*1048576\r\n").1, None);
    assert_eq!(
        parse_all_with(small_limits(), b"*11\r\n").1,
        Some(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        ProtocolError::InvalidMultibulkLength.to_string(),
        "Protocol error: invalid multibulk length"
    );
}

#[test]
fn too_big_mbulk_count_string() {
    let mut input = b"*".to_vec();
    input.extend(std::iter::repeat_n(b'1', 64 * 1024));
    assert_eq!(err_of(&input), ProtocolError::TooBigMultibulkCount);
    // Exactly at the limit it still waits for more.
    assert_eq!(parse_all(&input[..64 * 1024]).1, None);
    assert_eq!(
        ProtocolError::TooBigMultibulkCount.to_string(),
        "Protocol error: too big mbulk count string"
    );
}

#[test]
fn expected_dollar() {
    assert_eq!(err_of(b"*1\r\n:3\r\n"), ProtocolError::ExpectedDollar(b':'));
    assert_eq!(
        err_of(b"*2\r\n$1\r\na\r\nfoo\r\n"),
        ProtocolError::ExpectedDollar(b'f')
    );
    assert_eq!(
        ProtocolError::ExpectedDollar(b'x').to_string(),
        "Protocol error: expected '$', got 'x'"
    );
    // Like Redis, the check happens once the element's line is complete.
    assert_eq!(parse_all(b"*1\r\nfoo").1, None);
}

#[test]
fn invalid_bulk_length() {
    for input in [
        &b"*1\r\n$x\r\n"[..],
        b"*1\r\n$\r\n",
        b"*1\r\n$-1\r\n",
        b"*1\r\n$-5\r\n",
        b"*1\r\n$01\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$99999999999999999999\r\n",
    ] {
        assert_eq!(
            err_of(input),
            ProtocolError::InvalidBulkLength,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(parse_all(b"*1\r\n$536870912\r\n").1, None);
    assert_eq!(
        parse_all_with(small_limits(), b"*1\r\n$101\r\n").1,
        Some(ProtocolError::InvalidBulkLength)
    );
    assert_eq!(
        ProtocolError::InvalidBulkLength.to_string(),
        "Protocol error: invalid bulk length"
    );
}

#[test]
fn too_big_bulk_count_string() {
    let mut input = b"*1\r\n$".to_vec();
    input.extend(std::iter::repeat_n(b'9', 64 * 1024));
    assert_eq!(err_of(&input), ProtocolError::TooBigBulkCount);
    assert_eq!(
        ProtocolError::TooBigBulkCount.to_string(),
        "Protocol error: too big bulk count string"
    );
}

#[test]
fn too_big_inline_request() {
    let input = vec![b'a'; 64 * 1024 + 1];
    assert_eq!(err_of(&input), ProtocolError::TooBigInlineRequest);
    assert_eq!(parse_all(&input[..64 * 1024]).1, None);
    assert_eq!(
        parse_all_with(small_limits(), &[b'a'; 65]).1,
        Some(ProtocolError::TooBigInlineRequest)
    );
    assert_eq!(
        ProtocolError::TooBigInlineRequest.to_string(),
        "Protocol error: too big inline request"
    );
}

#[test]
fn bulk_without_crlf() {
    assert_eq!(
        err_of(b"*1\r\n$3\r\nfooXY"),
        ProtocolError::ExpectedCrlfAfterBulk
    );
    assert_eq!(
        err_of(b"*1\r\n$3\r\nfoo\rX"),
        ProtocolError::ExpectedCrlfAfterBulk
    );
    assert_eq!(parse_all(b"*1\r\n$3\r\nfoo\r").1, None);
    assert_eq!(
        ProtocolError::ExpectedCrlfAfterBulk.to_string(),
        "Protocol error: expected CRLF after bulk"
    );
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // Within the limits but nothing follows: must simply wait.
    let (cmds, err, _) = parse_all(b"*1048576\r\n$536870912\r\nabc");
    assert!(cmds.is_empty() && err.is_none());
}

#[test]
fn parser_resets_after_error_and_set_limits_applies() {
    let mut p = RequestParser::new(Limits::default());
    let mut buf = BytesMut::from(&b"*1\r\n$x\r\n"[..]);
    assert!(p.next_command(&mut buf).is_err());
    assert!(!p.in_progress());
    p.set_limits(small_limits());
    let mut buf = BytesMut::from(&b"*11\r\n"[..]);
    assert_eq!(
        p.next_command(&mut buf),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(p.limits().max_array_len, 10);
}

#[test]
fn large_payloads_are_zero_copy() {
    let payload = vec![7u8; 40_000];
    let mut frame = b"*1\r\n$40000\r\n".to_vec();
    frame.extend_from_slice(&payload);
    frame.extend_from_slice(b"\r\n");
    let mut buf = BytesMut::from(&frame[..]);
    let base = buf.as_ptr() as usize;
    let cmd = RequestParser::new(Limits::default())
        .next_command(&mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(cmd[0].as_ptr() as usize, base + 12);
    assert_eq!(cmd[0], payload);
}

#[test]
fn a_recycled_argument_vector_comes_back_empty() {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n"[..]);
    let first = p.next_command(&mut buf).unwrap().unwrap();
    assert_eq!(first, vec![Bytes::from_static(b"GET"), Bytes::from_static(b"a")]);
    p.recycle(first);
    let second = p.next_command(&mut buf).unwrap().unwrap();
    assert_eq!(second, vec![Bytes::from_static(b"PING")]);
    assert!(p.next_command(&mut buf).unwrap().is_none());
}

#[test]
fn command_names_are_interned_and_bounded() {
    // Two parsers on one thread share one copy of a repeated name.
    let (a, err, _) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nj\r\n");
    assert_eq!(err, None);
    let (b, _, _) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n");
    assert_eq!(a[0], argv(&[b"GET", b"k"]));
    assert_eq!(a[1], argv(&[b"GET", b"j"]));
    assert_eq!(a[0][0].as_ptr(), a[1][0].as_ptr());
    assert_eq!(a[0][0].as_ptr(), b[0][0].as_ptr());
    // Arguments other than the name are never shared.
    assert_ne!(a[0][1].as_ptr(), b[0][1].as_ptr());
    // Made-up names past the cap still parse, as copies; long ones too.
    let mut input = Vec::new();
    for i in 0..(crate::request::INTERN_MAX_NAMES + 50) {
        let name = format!("nocmd{i}");
        input.extend_from_slice(format!("*1\r\n${}\r\n{name}\r\n", name.len()).as_bytes());
    }
    let long = "x".repeat(100);
    input.extend_from_slice(format!("*1\r\n$100\r\n{long}\r\n").as_bytes());
    let (cmds, err, rest) = parse_all(&input);
    assert_eq!(err, None);
    assert!(rest.is_empty());
    assert_eq!(cmds.len(), crate::request::INTERN_MAX_NAMES + 51);
    for (i, c) in cmds.iter().take(cmds.len() - 1).enumerate() {
        assert_eq!(c[0], Bytes::from(format!("nocmd{i}")));
    }
    assert_eq!(cmds.last().unwrap()[0], Bytes::from(long));
}

#[test]
fn short_arguments_read_back_exactly_on_both_paths() {
    // One- and two-byte arguments come from static tables: every byte value,
    // every two-digit number, `-1`, and two-byte strings that are neither.
    let mut shorts: Vec<Vec<u8>> = (0..=255u8).map(|c| vec![c]).collect();
    shorts.extend((0..100).map(|n| format!("{n:02}").into_bytes()));
    shorts.extend([b"-1".to_vec(), b"-2".to_vec(), b"1a".to_vec(), b"a1".to_vec(), b"\r\n".to_vec()]);
    for arg in &shorts {
        let mut frame = b"*2\r\n$3\r\nGET\r\n".to_vec();
        frame.extend(format!("${}\r\n", arg.len()).bytes());
        frame.extend(arg);
        frame.extend(b"\r\n");
        let expect = argv(&[b"GET", arg]);
        // The whole frame at once (fast path), then byte by byte (general path).
        assert_eq!(parse_all(&frame).0, vec![expect.clone()], "{arg:?}");
        let mut p = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in &frame {
            buf.extend_from_slice(&[b]);
            if let Some(c) = p.next_command(&mut buf).unwrap() {
                got = Some(c);
            }
        }
        assert_eq!(got, Some(expect), "{arg:?}");
    }
}
