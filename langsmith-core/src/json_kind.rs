//! Whether a value serializes to a JSON object, found without serializing
//! it: a serializer that stops at the first call it gets.
//!
//! A run's inputs and outputs must be JSON objects; anything else is
//! wrapped as `{"output": value}`. Knowing the kind first lets
//! [`crate::to_payload`] serialize the value once, straight into its final
//! form, instead of serializing it, seeing it is not an object and copying
//! it into a wrapper (an allocation, a reallocation and a copy more for
//! every traced function that returns a string or a number).

use serde::Serialize;
use serde::ser::{self, Impossible};
use std::fmt;

/// Whether `value` serializes as a JSON object (a map, a struct, an enum
/// variant with data, or a newtype or `Some` around one). `None` when its
/// `Serialize` fails before saying: the caller finds out by serializing.
pub(crate) fn is_object<T: Serialize + ?Sized>(value: &T) -> Option<bool> {
    match value.serialize(Sniffer) {
        Ok(()) | Err(Found::NotObject) => Some(false),
        Err(Found::Object) => Some(true),
        Err(Found::Failed) => None,
    }
}

/// How sniffing ended early: an object or an array was found (no need to
/// look at their contents), or `Serialize` failed.
#[derive(Debug)]
enum Found {
    Object,
    NotObject,
    Failed,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Found::Object => "object",
            Found::NotObject => "not an object",
            Found::Failed => "failed",
        })
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Found::Failed
    }
}

/// Answers `Ok(())` for every value serde_json writes as something other
/// than an object, `Err(Found::Object)` for objects, and looks through
/// newtypes and `Some` as serde_json does.
struct Sniffer;

impl ser::Serializer for Sniffer {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Impossible<(), Found>;
    type SerializeTuple = Impossible<(), Found>;
    type SerializeTupleStruct = Impossible<(), Found>;
    type SerializeTupleVariant = Impossible<(), Found>;
    type SerializeMap = Impossible<(), Found>;
    type SerializeStruct = Impossible<(), Found>;
    type SerializeStructVariant = Impossible<(), Found>;

    fn serialize_bool(self, _: bool) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Found> {
        Ok(())
    }
    /// A string, without formatting it (the default would build it).
    fn collect_str<T: fmt::Display + ?Sized>(self, _: &T) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Found> {
        Err(Found::Object)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Found> {
        Err(Found::NotObject)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Found> {
        Err(Found::NotObject)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Found> {
        Err(Found::NotObject)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Found> {
        Err(Found::Object)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Found> {
        Err(Found::Object)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Found> {
        Err(Found::Object)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Found> {
        Err(Found::Object)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::value::RawValue;
    use std::collections::{BTreeMap, HashMap};

    #[derive(Serialize)]
    struct Plain {
        a: i32,
    }
    #[derive(Serialize)]
    struct Unit;
    #[derive(Serialize)]
    struct Newtype<T>(T);
    #[derive(Serialize)]
    struct Pair(i32, &'static str);
    #[derive(Serialize)]
    enum E {
        Unit,
        Newtype(i32),
        Tuple(i32, i32),
        Struct { x: i32 },
    }
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Untagged {
        Text(String),
        Obj { y: u8 },
    }
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("no"))
        }
    }

    /// `is_object` agrees with what serde_json writes, for every kind of
    /// value serde has.
    #[test]
    fn agrees_with_serde_json() {
        fn check<T: Serialize + ?Sized>(v: &T) {
            let text = serde_json::to_string(v).unwrap();
            let sniffed = is_object(v);
            // A `RawValue` (and arbitrary-precision numbers) serialize as a
            // special struct: "object" is then only a guess, which
            // `to_payload` checks after serializing.
            if sniffed == Some(true) && !text.starts_with('{') {
                assert!(text.starts_with('['), "only raw values guess wrong: {text}");
                return;
            }
            assert_eq!(sniffed, Some(text.starts_with('{')), "{text}");
        }
        check("hi");
        check(&1);
        check(&-1i128);
        check(&1.5);
        check(&f64::NAN);
        check(&true);
        check(&'c');
        check(&());
        check(&None::<i32>);
        check(&Some("x"));
        check(&Some(json!({"a": 1})));
        check(&Some(Some(Plain { a: 1 })));
        check(&vec![1, 2]);
        check(&Vec::<i32>::new());
        check(&(1, "a"));
        check(&[0u8, 1][..]);
        check(&Plain { a: 1 });
        check(&Unit);
        check(&Newtype("s"));
        check(&Newtype(Plain { a: 2 }));
        check(&Newtype(Newtype(vec![1])));
        check(&Pair(1, "b"));
        check(&E::Unit);
        check(&E::Newtype(3));
        check(&E::Tuple(1, 2));
        check(&E::Struct { x: 4 });
        check(&Untagged::Text("t".into()));
        check(&Untagged::Obj { y: 1 });
        check(&HashMap::from([("k", 1)]));
        check(&BTreeMap::<String, i32>::new());
        check(&json!({"a": [1, {"b": null}]}));
        check(&json!([1, 2]));
        check(&json!("s"));
        check(&json!(null));
        check(&crate::uuid7());
        check(&crate::Timestamp::now());
        check(&*RawValue::from_string(r#"{"r":1}"#.into()).unwrap());
        check(&*RawValue::from_string("[1]".into()).unwrap());
        check(&std::net::Ipv4Addr::LOCALHOST);
        assert_eq!(is_object(&Fails), None);
        assert_eq!(is_object(&Some(Fails)), None);
    }
}
