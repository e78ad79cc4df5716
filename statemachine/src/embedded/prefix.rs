//! The report's `key_prefix` column as one scalar function: the key up to
//! and including its first `/`, `""` for keys at the bucket's root, null for
//! bucket-level operations. The same rule as the Athena SQL's CASE over
//! `strpos` and `substr` (and as the report's own sections), in one pass over
//! the keys: evaluated as that CASE by DataFusion it cost about 4% of a run.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_string_array, as_string_view_array};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use s3la_shared::report::columns::top_level_prefix;

#[derive(Debug, PartialEq, Eq, Hash)]
struct TopLevelPrefix {
    signature: Signature,
}

/// The function, to call on the `key` column.
pub fn top_level_prefix_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(TopLevelPrefix {
        signature: Signature::uniform(
            1,
            vec![DataType::Utf8, DataType::Utf8View],
            Volatility::Immutable,
        ),
    })
}

impl ScalarUDFImpl for TopLevelPrefix {
    fn name(&self) -> &str {
        "s3la_top_level_prefix"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [key] = args.args.as_slice() else {
            return Err(DataFusionError::Internal(
                "s3la_top_level_prefix takes one argument".into(),
            ));
        };
        let keys = key.to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(prefixes(&keys)?))
    }
}

fn prefixes(keys: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(keys.len(), keys.len() * 8);
    match keys.data_type() {
        DataType::Utf8View => {
            for key in as_string_view_array(keys)? {
                out.append_option(top_level_prefix(key));
            }
        }
        _ => {
            for key in as_string_array(keys)? {
                out.append_option(top_level_prefix(key));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn prefixes_of_keys_at_the_root_in_folders_and_of_no_key() {
        let keys: ArrayRef = Arc::new(StringArray::from(vec![
            Some("downloads/a/b.zip"),
            Some("root.txt"),
            None,
            Some("/leading"),
            Some(""),
        ]));
        let out = prefixes(&keys).unwrap();
        let out = as_string_array(&out).unwrap();
        let got: Vec<_> = out.iter().collect();
        assert_eq!(
            got,
            vec![Some("downloads/"), Some(""), None, Some("/"), Some("")]
        );
    }
}
