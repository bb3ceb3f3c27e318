use crate::{parse_reply, Bytes, BytesMut, Protocol, ProtocolError, Reply};

fn enc(r: &Reply, p: Protocol) -> String {
    String::from_utf8(r.to_bytes(p).to_vec()).unwrap()
}

fn both(r: Reply, resp2: &str, resp3: &str) {
    assert_eq!(enc(&r, Protocol::Resp2), resp2, "RESP2 of {r:?}");
    assert_eq!(enc(&r, Protocol::Resp3), resp3, "RESP3 of {r:?}");
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn encode_scalars() {
    both(Reply::ok(), "+OK\r\n", "+OK\r\n");
    both(Reply::simple("PONG"), "+PONG\r\n", "+PONG\r\n");
    both(
        Reply::error("ERR unknown command 'foo'"),
        "-ERR unknown command 'foo'\r\n",
        "-ERR unknown command 'foo'\r\n",
    );
    both(Reply::error("ERR a\r\nb"), "-ERR a  b\r\n", "-ERR a  b\r\n");
    both(Reply::Int(0), ":0\r\n", ":0\r\n");
    both(Reply::Int(-42), ":-42\r\n", ":-42\r\n");
    both(
        Reply::Int(i64::MIN),
        ":-9223372036854775808\r\n",
        ":-9223372036854775808\r\n",
    );
    both(Reply::bulk("hello"), "$5\r\nhello\r\n", "$5\r\nhello\r\n");
    both(Reply::bulk(""), "$0\r\n\r\n", "$0\r\n\r\n");
    both(
        Reply::bulk(&b"a\r\n\0"[..]),
        "$4\r\na\r\n\0\r\n",
        "$4\r\na\r\n\0\r\n",
    );
    both(Reply::Nil, "$-1\r\n", "_\r\n");
    both(Reply::NilArray, "*-1\r\n", "_\r\n");
    both(Reply::Double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
    both(
        Reply::Double(1.1),
        "$18\r\n1.1000000000000001\r\n",
        ",1.1000000000000001\r\n",
    );
    both(Reply::Double(f64::INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
    both(
        Reply::Double(f64::NEG_INFINITY),
        "$4\r\n-inf\r\n",
        ",-inf\r\n",
    );
    both(Reply::Double(f64::NAN), "$3\r\nnan\r\n", ",nan\r\n");
    both(Reply::Bool(true), ":1\r\n", "#t\r\n");
    both(Reply::Bool(false), ":0\r\n", "#f\r\n");
    both(
        Reply::Verbatim(b("hi there")),
        "$8\r\nhi there\r\n",
        "=12\r\ntxt:hi there\r\n",
    );
    both(
        Reply::BigNumber(b("1234567890123456789012")),
        "$22\r\n1234567890123456789012\r\n",
        "(1234567890123456789012\r\n",
    );
}

#[test]
fn encode_aggregates() {
    both(Reply::Array(vec![]), "*0\r\n", "*0\r\n");
    both(
        Reply::Array(vec![Reply::bulk("a"), Reply::Int(1), Reply::Nil]),
        "*3\r\n$1\r\na\r\n:1\r\n$-1\r\n",
        "*3\r\n$1\r\na\r\n:1\r\n_\r\n",
    );
    both(
        Reply::Map(vec![
            (Reply::bulk("k"), Reply::Double(2.0)),
            (Reply::simple("x"), Reply::Bool(true)),
        ]),
        "*4\r\n$1\r\nk\r\n$1\r\n2\r\n+x\r\n:1\r\n",
        "%2\r\n$1\r\nk\r\n,2\r\n+x\r\n#t\r\n",
    );
    both(
        Reply::Set(vec![Reply::bulk("m")]),
        "*1\r\n$1\r\nm\r\n",
        "~1\r\n$1\r\nm\r\n",
    );
    both(
        Reply::Push(vec![Reply::bulk("message"), Reply::Array(vec![])]),
        "*2\r\n$7\r\nmessage\r\n*0\r\n",
        ">2\r\n$7\r\nmessage\r\n*0\r\n",
    );
}

#[test]
fn helpers() {
    assert!(Reply::error("ERR x").is_error());
    assert!(!Reply::ok().is_error());
    assert_eq!(Reply::Double(f64::NAN), Reply::Double(f64::NAN));
    assert_ne!(Reply::Nil, Reply::NilArray);
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug + PartialEq>() {}
    assert_traits::<Reply>();
    assert_traits::<ProtocolError>();
}

fn decode(input: &[u8]) -> Result<Option<Reply>, ProtocolError> {
    let mut buf = BytesMut::from(input);
    let r = parse_reply(&mut buf);
    if let Ok(Some(_)) = r {
        assert!(
            buf.is_empty(),
            "trailing bytes after {:?}",
            String::from_utf8_lossy(input)
        );
    }
    r
}

#[test]
fn decode_all_types() {
    let cases: Vec<(&[u8], Reply)> = vec![
        (b"+OK\r\n", Reply::ok()),
        (b"-ERR bad\r\n", Reply::error("ERR bad")),
        (b":-7\r\n", Reply::Int(-7)),
        (b"$3\r\na\r\n\r\n", Reply::bulk(&b"a\r\n"[..])),
        (b"$-1\r\n", Reply::Nil),
        (b"*-1\r\n", Reply::NilArray),
        (b"_\r\n", Reply::Nil),
        (b",1.25\r\n", Reply::Double(1.25)),
        (b",-inf\r\n", Reply::Double(f64::NEG_INFINITY)),
        (b",nan\r\n", Reply::Double(f64::NAN)),
        (b"#t\r\n", Reply::Bool(true)),
        (b"!9\r\nERR x\r\nyz\r\n", Reply::error("ERR x\r\nyz")),
        (b"=7\r\nmkd:abc\r\n", Reply::Verbatim(b("abc"))),
        (b"(-123\r\n", Reply::BigNumber(b("-123"))),
        (
            b"%1\r\n+a\r\n*2\r\n:1\r\n:2\r\n",
            Reply::Map(vec![(
                Reply::simple("a"),
                Reply::Array(vec![Reply::Int(1), Reply::Int(2)]),
            )]),
        ),
        (b"~1\r\n_\r\n", Reply::Set(vec![Reply::Nil])),
        (b">1\r\n+x\r\n", Reply::Push(vec![Reply::simple("x")])),
        (b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", Reply::bulk("v")),
    ];
    for (input, want) in cases {
        assert_eq!(
            decode(input),
            Ok(Some(want)),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn decode_incomplete_consumes_nothing() {
    let full = b"*3\r\n$5\r\nhello\r\n%1\r\n:1\r\n,2.5\r\n(12\r\n";
    for cut in 0..full.len() {
        let mut buf = BytesMut::from(&full[..cut]);
        assert_eq!(parse_reply(&mut buf), Ok(None), "cut at {cut}");
        assert_eq!(buf.len(), cut);
    }
    let mut buf = BytesMut::from(&full[..]);
    buf.extend_from_slice(b"+next\r\n");
    assert!(parse_reply(&mut buf).unwrap().is_some());
    assert_eq!(parse_reply(&mut buf), Ok(Some(Reply::simple("next"))));
    assert_eq!(parse_reply(&mut buf), Ok(None));
}

#[test]
fn decode_errors() {
    for input in [
        &b"?\r\n"[..],
        b"+OK\rX",
        b":12a\r\n",
        b"$-2\r\n",
        b"$3\r\nabcde",
        b"*-2\r\n",
        b"%-1\r\n",
        b"#x\r\n",
        b",abc\r\n",
        b"_x\r\n",
        b"=3\r\nabc\r\n",
        b"(1.5\r\n",
        b"$?\r\n",
    ] {
        assert!(
            decode(input).is_err(),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    let deep = b"*1\r\n".repeat(10_000);
    assert_eq!(decode(&deep), Err(ProtocolError::ReplyTooDeep));
}

#[test]
fn bulk_array_is_the_array_of_its_bulks() {
    let parts: [&[u8]; 3] = [b"a", b"", b"bin\r\nary"];
    let wire = Reply::bulk_array(&parts);
    let plain = Reply::Array(parts.iter().map(|p| Reply::Bulk(Bytes::copy_from_slice(p))).collect());
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        assert_eq!(wire.to_bytes(proto), plain.to_bytes(proto));
    }
    assert_eq!(wire, plain);
    assert_eq!(plain, wire);
    assert_ne!(wire, Reply::Array(vec![Reply::Bulk(Bytes::from_static(b"a"))]));
    assert_eq!(Reply::bulk_array(&[]), Reply::Array(vec![]));
    // From an iterator, below and above what fits on the stack.
    for n in [0, 1, 31, 32, 33, 100] {
        let owned: Vec<Vec<u8>> = (0..n).map(|i| format!("m{i}").into_bytes()).collect();
        let slices: Vec<&[u8]> = owned.iter().map(|v| &v[..]).collect();
        assert_eq!(Reply::bulk_array_of(slices.iter().copied()), Reply::bulk_array(&slices), "{n} parts");
    }
    assert_eq!(&Reply::bulk_array(&[]).to_bytes(Protocol::Resp3)[..], b"*0\r\n");
}
