use proptest::collection::vec;
use proptest::prelude::*;

use crate::{
    format_double_g17, parse_reply, Bytes, BytesMut, Limits, Protocol, Reply, RequestParser,
};

fn encode_request(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Feeds `input` to a parser in the given chunk sizes, collecting commands.
fn feed(input: &[u8], cuts: &[usize]) -> Result<Vec<Vec<Bytes>>, crate::ProtocolError> {
    let mut p = RequestParser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut at = 0;
    for point in points {
        buf.extend_from_slice(&input[at..point]);
        at = point;
        while let Some(cmd) = p.next_command(&mut buf)? {
            cmds.push(cmd);
        }
    }
    Ok(cmds)
}

fn arb_reply() -> impl Strategy<Value = Reply> {
    let bytes = || vec(any::<u8>(), 0..20).prop_map(Bytes::from);
    let line = || "[a-zA-Z0-9 _:'-]{0,12}".prop_map(Bytes::from);
    let leaf = prop_oneof![
        line().prop_map(Reply::Simple),
        line().prop_map(Reply::Error),
        any::<i64>().prop_map(Reply::Int),
        bytes().prop_map(Reply::Bulk),
        Just(Reply::Nil),
        Just(Reply::NilArray),
        any::<f64>().prop_map(Reply::Double),
        any::<bool>().prop_map(Reply::Bool),
        bytes().prop_map(Reply::Verbatim),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Reply::BigNumber(Bytes::from(s))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Reply::Array),
            vec(inner.clone(), 0..6).prop_map(Reply::Set),
            vec(inner.clone(), 0..6).prop_map(Reply::Push),
            vec((inner.clone(), inner), 0..4).prop_map(Reply::Map),
        ]
    })
}

/// What a client decodes after `r` went over the wire in protocol `proto`.
fn as_received(r: &Reply, proto: Protocol) -> Reply {
    let resp3 = proto == Protocol::Resp3;
    let all = |items: &[Reply]| {
        items
            .iter()
            .map(|i| as_received(i, proto))
            .collect::<Vec<_>>()
    };
    match r {
        Reply::NilArray if resp3 => Reply::Nil,
        Reply::Array(items) => Reply::Array(all(items)),
        Reply::Set(items) if resp3 => Reply::Set(all(items)),
        Reply::Push(items) if resp3 => Reply::Push(all(items)),
        Reply::Set(items) | Reply::Push(items) => Reply::Array(all(items)),
        Reply::Map(pairs) if resp3 => Reply::Map(
            pairs
                .iter()
                .map(|(k, v)| (as_received(k, proto), as_received(v, proto)))
                .collect(),
        ),
        Reply::Map(pairs) => Reply::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [as_received(k, proto), as_received(v, proto)])
                .collect(),
        ),
        Reply::Double(d) if !resp3 => Reply::Bulk(Bytes::from(format_double_g17(*d))),
        Reply::Bool(b) if !resp3 => Reply::Int(i64::from(*b)),
        Reply::Verbatim(v) | Reply::BigNumber(v) if !resp3 => Reply::Bulk(v.clone()),
        other => other.clone(),
    }
}

proptest! {
    #[test]
    fn argv_roundtrips_through_random_splits(
        cmds in vec(vec(vec(any::<u8>(), 0..40), 1..6), 1..4),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let mut input = Vec::new();
        for c in &cmds {
            input.extend(encode_request(c));
        }
        let got = feed(&input, &cuts).unwrap();
        let want: Vec<Vec<Bytes>> = cmds
            .iter()
            .map(|c| c.iter().map(|a| Bytes::copy_from_slice(a)).collect())
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn byte_by_byte_equals_all_at_once(args in vec(vec(any::<u8>(), 0..10), 1..5)) {
        let input = encode_request(&args);
        let cuts: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(feed(&input, &cuts).unwrap(), feed(&input, &[]).unwrap());
    }

    #[test]
    fn random_bytes_never_panic(data in vec(any::<u8>(), 0..200), cuts in vec(any::<usize>(), 0..5)) {
        let _ = feed(&data, &cuts);
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = parse_reply(&mut buf) {}
    }

    #[test]
    fn protocol_like_noise_never_panics(
        parts in vec(prop_oneof![
            Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()), Just(b"\n".to_vec()),
            Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"\\".to_vec()), Just(b" ".to_vec()),
            Just(b"-1".to_vec()), Just(b"0".to_vec()), Just(b"3".to_vec()), Just(b"x".to_vec()),
            Just(b"%".to_vec()), Just(b"|".to_vec()), Just(b"=".to_vec()), Just(b",".to_vec()),
        ], 0..60),
        cuts in vec(any::<usize>(), 0..5),
    ) {
        let data = parts.concat();
        let _ = feed(&data, &cuts);
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = parse_reply(&mut buf) {}
    }

    /// The one-pass path for whole frames and the incremental path agree,
    /// commands and errors alike: fed byte by byte, frames go through the
    /// incremental path; fed at once, well-formed ones take the one-pass path.
    #[test]
    fn whole_frames_parse_as_incremental_ones(
        parts in vec(prop_oneof![
            Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()), Just(b"\r".to_vec()),
            Just(b"-1".to_vec()), Just(b"0".to_vec()), Just(b"1".to_vec()), Just(b"2".to_vec()),
            Just(b"3".to_vec()), Just(b"x".to_vec()), Just(b"*1\r\n$1\r\na\r\n".to_vec()),
            Just(b"*2\r\n$3\r\nget\r\n$1\r\nk\r\n".to_vec()), Just(b"$2\r\nab\r\n".to_vec()),
        ], 0..40),
    ) {
        let data = parts.concat();
        let cuts: Vec<usize> = (0..data.len()).collect();
        let at_once = feed(&data, &[]).map_err(|e| e.to_string());
        let by_byte = feed(&data, &cuts).map_err(|e| e.to_string());
        prop_assert_eq!(at_once, by_byte);
    }

    #[test]
    fn reply_roundtrips(reply in arb_reply(), resp3 in any::<bool>(), cut in any::<usize>()) {
        let proto = if resp3 { Protocol::Resp3 } else { Protocol::Resp2 };
        let wire = reply.to_bytes(proto);
        // Any strict prefix is incomplete and consumes nothing.
        let cut = cut % wire.len();
        let mut partial = BytesMut::from(&wire[..cut]);
        prop_assert_eq!(parse_reply(&mut partial), Ok(None));
        prop_assert_eq!(partial.len(), cut);
        let mut buf = wire.clone();
        let decoded = parse_reply(&mut buf).unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(decoded, Some(as_received(&reply, proto)));
    }

    #[test]
    fn g17_roundtrips_and_matches_shape(v in any::<f64>()) {
        let s = format_double_g17(v);
        if v.is_finite() {
            prop_assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits());
            prop_assert!(!s.contains('.') || !s.split('e').next().unwrap().ends_with('0'));
        }
    }
}

proptest! {
    #[test]
    fn format_i64_matches_to_string(v in any::<i64>()) {
        let mut buf = [0u8; 20];
        let want = v.to_string();
        prop_assert_eq!(crate::format_i64(v, &mut buf), want.as_bytes());
    }
}
