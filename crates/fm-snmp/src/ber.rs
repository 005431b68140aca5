//! Just enough BER (X.690) to encode an SNMPv2c trap message.

/// An object identifier as its arcs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oid(pub Vec<u32>);

impl Oid {
    /// Parses `1.3.6.1…` (a leading dot is allowed). Needs at least two arcs.
    pub fn parse(s: &str) -> Option<Oid> {
        let arcs: Option<Vec<u32>> = s
            .trim_start_matches('.')
            .split('.')
            .map(|a| a.parse().ok())
            .collect();
        arcs.filter(|a| a.len() >= 2 && a[0] <= 2 && (a[0] == 2 || a[1] < 40))
            .map(Oid)
    }
    /// This OID with more arcs appended.
    pub fn child(&self, arcs: &[u32]) -> Oid {
        let mut v = self.0.clone();
        v.extend_from_slice(arcs);
        Oid(v)
    }
}

/// A varbind value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// INTEGER.
    Int(i64),
    /// OCTET STRING.
    Octets(Vec<u8>),
    /// OBJECT IDENTIFIER.
    Oid(Oid),
    /// TimeTicks (APPLICATION 3).
    Ticks(u32),
}

fn len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Tag, length, value.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

fn int_bytes(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    // Drop redundant leading bytes while the sign bit stays right.
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    b[i..].to_vec()
}

fn uint_bytes(v: u32) -> Vec<u8> {
    int_bytes(i64::from(v))
}

fn oid_bytes(o: &Oid) -> Vec<u8> {
    let mut out = Vec::new();
    let first = o.0[0] * 40 + o.0[1];
    for arc in std::iter::once(first).chain(o.0[2..].iter().copied()) {
        let mut stack = vec![(arc & 0x7f) as u8];
        let mut a = arc >> 7;
        while a > 0 {
            stack.push(((a & 0x7f) as u8) | 0x80);
            a >>= 7;
        }
        out.extend(stack.iter().rev());
    }
    out
}

/// Encodes an INTEGER.
pub fn int(v: i64) -> Vec<u8> {
    tlv(0x02, &int_bytes(v))
}

/// Encodes a value.
pub fn value(v: &Val) -> Vec<u8> {
    match v {
        Val::Int(i) => int(*i),
        Val::Octets(b) => tlv(0x04, b),
        Val::Oid(o) => tlv(0x06, &oid_bytes(o)),
        Val::Ticks(t) => tlv(0x43, &uint_bytes(*t)),
    }
}

/// Encodes a SEQUENCE of already-encoded parts.
pub fn seq(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// An SNMPv2c message carrying an SNMPv2-Trap-PDU.
pub fn trap_message(community: &str, request_id: i32, varbinds: &[(Oid, Val)]) -> Vec<u8> {
    let vbs: Vec<Vec<u8>> = varbinds
        .iter()
        .map(|(o, v)| seq(0x30, &[value(&Val::Oid(o.clone())), value(v)]))
        .collect();
    let pdu = seq(
        0xa7,
        &[int(i64::from(request_id)), int(0), int(0), seq(0x30, &vbs)],
    );
    seq(0x30, &[int(1), tlv(0x04, community.as_bytes()), pdu])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_values() {
        assert_eq!(int(0), vec![0x02, 0x01, 0x00]);
        assert_eq!(int(127), vec![0x02, 0x01, 0x7f]);
        assert_eq!(int(128), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(int(-1), vec![0x02, 0x01, 0xff]);
        assert_eq!(int(-129), vec![0x02, 0x02, 0xff, 0x7f]);
        assert_eq!(
            value(&Val::Oid(Oid::parse("1.3.6.1.4.1.731").unwrap())),
            vec![0x06, 0x07, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x85, 0x5b]
        );
        assert_eq!(value(&Val::Ticks(300)), vec![0x43, 0x02, 0x01, 0x2c]);
        let long = tlv(0x04, &[0u8; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0u8; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert!(Oid::parse("1").is_none());
        assert!(Oid::parse("1.x").is_none());
        assert!(Oid::parse("3.1").is_none());
    }
}
