//! Column sets declared once: the SQL column list a query selects and the
//! position each decoder reads come from the same declaration, so a column
//! added, removed or moved in the list moves its decoder with it.
//!
//! ```
//! starling_db::columns! {
//!     /// The columns of a thing.
//!     pub mod thing ("t") { id, name, enabled }
//! }
//! // Columns joined after another set number on from its end:
//! starling_db::columns! {
//!     pub mod thing_owner ("o") after thing { owner }
//! }
//!
//! fn main() {
//!     assert_eq!(thing::LIST, "t.id, t.name, t.enabled");
//!     assert_eq!(thing::NAMES, "id, name, enabled");
//!     assert_eq!(thing::PLACEHOLDERS, "?, ?, ?");
//!     assert_eq!(thing::SET_REST, "name = ?, enabled = ?");
//!     assert_eq!(thing::COUNT, 3);
//!     let row = starling_db::Row(vec![7.into(), "a".into(), true.into()]);
//!     assert_eq!(row.int(thing::id).unwrap(), 7);
//!     assert!(row.bool(thing::enabled).unwrap());
//!     assert_eq!(thing_owner::owner as usize, 3);
//! }
//! ```

/// A column's position in a result row, and its name for error messages.
pub trait ColumnIndex: Copy {
    /// The column's position, from 0.
    fn index(self) -> usize;
    /// The column's name.
    fn name(self) -> &'static str;
}

/// Declares a column set: a module with a `Column` enum (each variant is a
/// column's position, re-exported by name, e.g. `host::uuid`), `LIST` (the
/// columns qualified by the given table alias, comma-separated, for `SELECT`),
/// `NAMES` (unqualified, for `INSERT`), `PLACEHOLDERS`, `SET_REST` (the
/// assignments of every column but the first, for `UPDATE … WHERE first = ?`)
/// and `COUNT`. Values bound for an `INSERT` go in the declared order.
///
/// `after OTHER` numbers the columns on from the end of the column set
/// `OTHER` (declared beside this one), for a query that selects `OTHER::LIST`
/// and then these.
#[macro_export]
macro_rules! columns {
    ($(#[$meta:meta])* $vis:vis mod $m:ident ($alias:literal) after $base:ident { $first:ident $(, $col:ident)* $(,)? }) => {
        $crate::columns!(@module [$(#[$meta])*] $vis $m ($alias) [super::$base::COUNT] $first $(, $col)*);
    };
    ($(#[$meta:meta])* $vis:vis mod $m:ident ($alias:literal) { $first:ident $(, $col:ident)* $(,)? }) => {
        $crate::columns!(@module [$(#[$meta])*] $vis $m ($alias) [0] $first $(, $col)*);
    };
    (@module [$(#[$meta:meta])*] $vis:vis $m:ident ($alias:literal) [$start:expr] $first:ident $(, $col:ident)*) => {
        $(#[$meta])*
        #[allow(non_camel_case_types, non_upper_case_globals, dead_code, unreachable_pub)]
        $vis mod $m {
            /// Each column's position in a row that selected [`LIST`].
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            #[repr(usize)]
            pub enum Column {
                $first = $start,
                $($col,)*
            }
            pub use Column::*;
            /// The table alias the columns are qualified by.
            pub const ALIAS: &str = $alias;
            /// The columns qualified by the table alias, comma-separated.
            pub const LIST: &str = concat!(
                $alias, ".", stringify!($first) $(, ", ", $alias, ".", stringify!($col))*
            );
            /// The column names alone, comma-separated.
            pub const NAMES: &str = concat!(stringify!($first) $(, ", ", stringify!($col))*);
            /// One `?` per column, comma-separated: `VALUES ({PLACEHOLDERS})`.
            pub const PLACEHOLDERS: &str = concat!("?" $(, $crate::__column_placeholder!($col))*);
            /// `column = ?` for every column but the first (the key),
            /// comma-separated: `UPDATE t SET {SET_REST} WHERE key = ?`.
            pub const SET_REST: &str = $crate::__column_assignments!($($col),*);
            /// How many columns the set has.
            pub const COUNT: usize = [stringify!($first) $(, stringify!($col))*].len();
            impl $crate::ColumnIndex for Column {
                fn index(self) -> usize {
                    self as usize
                }
                fn name(self) -> &'static str {
                    match self {
                        Column::$first => stringify!($first),
                        $(Column::$col => stringify!($col),)*
                    }
                }
            }
        }
    };
}

/// Values bound in a column set's order (the key first, as for `INSERT`)
/// with the key moved to the end, for `UPDATE t SET {SET_REST} WHERE key = ?`.
pub fn key_last(mut params: Vec<crate::Value<'_>>) -> Vec<crate::Value<'_>> {
    params.rotate_left(1);
    params
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_placeholder {
    ($col:ident) => {
        ", ?"
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __column_assignments {
    () => {
        ""
    };
    ($first:ident $(, $col:ident)*) => {
        concat!(stringify!($first), " = ?" $(, ", ", stringify!($col), " = ?")*)
    };
}

#[cfg(test)]
mod tests {
    use crate::{ColumnIndex, Row, Value};

    crate::columns! {
        mod base ("b") { id, name }
    }
    crate::columns! {
        mod tail ("t") after base { status, level }
    }

    #[test]
    fn lists_and_positions_come_from_one_declaration() {
        assert_eq!(base::LIST, "b.id, b.name");
        assert_eq!(tail::LIST, "t.status, t.level");
        assert_eq!(tail::NAMES, "status, level");
        assert_eq!((base::COUNT, tail::COUNT), (2, 2));
        assert_eq!(tail::PLACEHOLDERS, "?, ?");
        assert_eq!(tail::SET_REST, "level = ?");
        let moved = crate::key_last(vec![Value::Int(1), "a".into(), "b".into()]);
        assert_eq!(moved, vec!["a".into(), "b".into(), Value::Int(1)]);
        assert_eq!(tail::status.index(), 2);
        assert_eq!(tail::level.index(), 3);
        assert_eq!(tail::level.name(), "level");
    }

    #[test]
    fn errors_name_the_column() {
        let r = Row(vec![Value::Int(1), Value::Null]);
        let e = r.text(base::name).unwrap_err();
        assert!(e.message.contains("name"), "{e}");
        let e = r.int(tail::status).unwrap_err();
        assert!(
            e.message.contains("status") && e.message.contains("missing"),
            "{e}"
        );
    }
}
