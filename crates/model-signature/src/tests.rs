use super::*;

#[derive(Debug)]
struct Given {
    name: &'static str,
    shape: Vec<u32>,
    len: usize,
}

impl InputTensor for Given {
    fn name(&self) -> &str {
        self.name
    }
    fn shape(&self) -> &[u32] {
        &self.shape
    }
    fn data_len(&self) -> usize {
        self.len
    }
}

fn given(name: &'static str, shape: &[u32], len: usize) -> Given {
    Given {
        name,
        shape: shape.to_vec(),
        len,
    }
}

/// The engagement model's own metadata, as shipped.
fn engagement() -> Signature {
    Signature::from_metadata(include_str!("../../../models/engagement/metadata.json")).unwrap()
}

/// Two inputs sharing the batch symbol `N`.
fn two_inputs() -> Signature {
    Signature::from_metadata(
        r#"{"inputs": [
            {"name": "a", "dtype": "float32", "shape": ["N", 3]},
            {"name": "b", "dtype": "int64", "shape": ["N"]}
        ]}"#,
    )
    .unwrap()
}

fn refusal(signature: &Signature, inputs: &[Given]) -> String {
    signature.bind("m", inputs).unwrap_err().0
}

#[test]
fn the_engagement_metadata_reads_as_one_f32_input_of_n_by_7() {
    let signature = engagement();
    assert_eq!(signature.inputs.len(), 1);
    assert_eq!(signature.inputs[0].to_string(), "`features` F32 [N, 7]");
}

#[test]
fn inputs_that_fit_come_back_in_graph_order_whatever_order_they_were_given_in() {
    let inputs = [given("b", &[2], 2), given("a", &[2, 3], 6)];
    let bound = two_inputs().bind("m", &inputs).unwrap();
    let names: Vec<&str> = bound.iter().map(|t| t.name).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn an_unknown_input_is_refused_with_the_inputs_the_model_takes() {
    let message = refusal(&engagement(), &[given("x", &[1, 7], 7)]);
    assert_eq!(
        message,
        "model `m` has no input `x`; it takes `features` F32 [N, 7]"
    );
}

#[test]
fn a_missing_input_and_a_repeated_one_are_refused() {
    let message = refusal(&engagement(), &[]);
    assert_eq!(
        message,
        "model `m` needs input `features` F32 [N, 7], which was not given"
    );
    let one = || given("features", &[1, 7], 7);
    let message = refusal(&engagement(), &[one(), one()]);
    assert_eq!(message, "input `features` is given more than once");
}

#[test]
fn rank_fixed_dimensions_and_empty_batches_are_checked() {
    let message = refusal(&engagement(), &[given("features", &[7], 7)]);
    assert!(message.ends_with("rank 1 instead of 2"), "{message}");
    let message = refusal(&engagement(), &[given("features", &[2, 6], 12)]);
    assert_eq!(
        message,
        "input `features` has shape [2, 6], the model expects `features` F32 [N, 7]: dimension 1 must be 7"
    );
    let message = refusal(&engagement(), &[given("features", &[0, 7], 0)]);
    assert!(message.ends_with("dimension 0 must not be 0"), "{message}");
}

#[test]
fn a_symbol_must_take_the_same_size_in_every_input() {
    let message = refusal(
        &two_inputs(),
        &[given("a", &[2, 3], 6), given("b", &[3], 3)],
    );
    assert!(
        message.ends_with("dimension 0 is `N`, already 2 in another input"),
        "{message}"
    );
}

#[test]
fn data_must_fill_the_shape_exactly_even_when_the_shape_overflows() {
    let message = refusal(&engagement(), &[given("features", &[2, 7], 13)]);
    assert_eq!(
        message,
        "input `features` has shape [2, 7], which holds 14 values, but 13 values of data"
    );
    let message = refusal(&engagement(), &[given("features", &[u32::MAX, 7], 7)]);
    assert!(message.contains("holds"), "{message}");
}

#[test]
fn metadata_without_inputs_is_an_error_not_an_empty_signature() {
    assert!(Signature::from_metadata(r#"{"outputs": []}"#).is_err());
    assert!(
        Signature::from_metadata(
            r#"{"inputs": [{"name": "a", "dtype": "float32", "shape": [-1]}]}"#
        )
        .is_err()
    );
}
