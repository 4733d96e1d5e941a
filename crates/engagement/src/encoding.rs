//! The model's input and output contract (`models/engagement/metadata.json`):
//! the column order of the `features` tensor, the dataset's encodings (post
//! type codes, weekday 1 = Sunday … 7 = Saturday), the output names and
//! target columns, and what the training data covered (for warnings).
//!
//! A test checks these constants against `metadata.json`, so a retrained model
//! with another contract fails here rather than answering with wrong numbers.

use fbposts_core::PostType;

/// Name of the model folder under `models/` and of the model in the
/// inference call.
pub const MODEL_NAME: &str = "engagement";
/// `version` in `models/engagement/metadata.json`.
pub const MODEL_VERSION: &str = "1.1.0";

/// Name of the model's only input.
pub const INPUT_NAME: &str = "features";
/// Columns of one input row, in order.
pub const FEATURE_COLUMNS: [&str; N_FEATURES] = [
    "page_total_likes",
    "type_code",
    "category",
    "month",
    "weekday",
    "hour",
    "paid",
];
/// Width of one input row.
pub const N_FEATURES: usize = 7;
/// One encoded input row.
pub type FeatureRow = [f32; N_FEATURES];

/// The output tensors, one per quantile, each `[N, 4]`.
pub const OUTPUT_NAMES: [&str; 3] = ["p10", "p50", "p90"];
/// Columns of every output row, in order.
pub const TARGETS: [&str; N_TARGETS] =
    ["total_interactions", "engaged_users", "consumers", "reach"];
/// Width of one output row.
pub const N_TARGETS: usize = 4;
/// Index of `total_interactions`, the column best times are ranked by.
pub const TOTAL_INTERACTIONS: usize = 0;

/// The model's `total_interactions` head alone (`models/engagement-timing`,
/// written by `models/train.py` beside the whole model and checked there to
/// answer its column): the same input, the same output names, each `[N, 1]`.
/// Best times rank the week's slots by it at a quarter of the whole model's
/// cost per row.
pub const TIMING_MODEL_NAME: &str = "engagement-timing";

/// The dataset's `Type` code: 0 = Photo, 1 = Status, 2 = Link, 3 = Video.
pub fn type_code(post_type: PostType) -> u8 {
    match post_type {
        PostType::Photo => 0,
        PostType::Status => 1,
        PostType::Link => 2,
        PostType::Video => 3,
    }
}

/// English weekday names in the dataset's order: index 0 is weekday 1
/// (Sunday), index 6 is weekday 7 (Saturday).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// Name of a dataset weekday (1 = Sunday … 7 = Saturday); `""` outside 1–7.
pub fn weekday_name(weekday: u8) -> &'static str {
    match weekday {
        1..=7 => WEEKDAY_NAMES[usize::from(weekday - 1)],
        _ => "",
    }
}

/// The dataset weekday (1 = Sunday … 7 = Saturday) of a calendar weekday.
pub fn weekday_code(weekday: time::Weekday) -> u8 {
    weekday.number_from_sunday()
}

/// Category names: 1 = action (offers, contests), 2 = product (direct
/// advertisement), 3 = inspiration (non-explicit brand content).
pub const CATEGORY_NAMES: [&str; 3] = ["action", "product", "inspiration"];

/// Category used when the request gives none: 1 (action), the most common
/// category of the training posts (178 of 400; product 103, inspiration 119).
pub const DEFAULT_CATEGORY: u8 = 1;

/// `Page total likes` seen in training (inclusive); the model extrapolates
/// outside it.
pub const TRAINING_LIKES_RANGE: (u64, u64) = (81_370, 139_441);

/// Training posts per hour of day (0–23), from the 400 training rows.
pub const TRAINING_POSTS_BY_HOUR: [u16; 24] = [
    0, 3, 31, 88, 24, 10, 13, 11, 11, 22, 62, 34, 25, 40, 11, 5, 1, 3, 3, 1, 0, 0, 1, 1,
];

/// Training posts per post type code (Photo, Status, Link, Video).
pub const TRAINING_POSTS_BY_TYPE: [u16; 4] = [344, 34, 16, 6];

/// Below this many training posts an hour or a post type is flagged as
/// little data (`low_data` on best times, a warning on the input).
pub const LOW_DATA_POSTS: u16 = 5;

/// Whether the model saw fewer than [`LOW_DATA_POSTS`] posts at `hour`.
pub fn hour_has_low_data(hour: u8) -> bool {
    TRAINING_POSTS_BY_HOUR
        .get(usize::from(hour))
        .is_none_or(|&n| n < LOW_DATA_POSTS)
}

/// The `features` tensor of `rows`: shape `[rows, 7]` and row-major data.
pub fn features_tensor(rows: &[FeatureRow]) -> (Vec<u32>, Vec<f32>) {
    let n = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let shape = vec![n, N_FEATURES as u32];
    let data = rows.iter().flatten().copied().collect();
    (shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// `models/<model>/metadata.json`.
    fn metadata_of(model: &str) -> Value {
        let path = format!(
            "{}/../../models/{model}/metadata.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect(&path);
        serde_json::from_str(&text).expect("metadata.json is strict JSON")
    }

    fn metadata() -> Value {
        metadata_of(MODEL_NAME)
    }

    /// A JSON array of strings.
    fn strings(array: &Value) -> Vec<&str> {
        let items = array.as_array().unwrap();
        items.iter().map(|v| v.as_str().unwrap()).collect()
    }

    /// The `name` of each of the metadata's outputs, in order.
    fn output_names(metadata: &Value) -> Vec<&str> {
        let outputs = metadata["outputs"].as_array().unwrap();
        outputs
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn constants_match_the_model_metadata() {
        let m = metadata();
        assert_eq!(m["name"], MODEL_NAME);
        assert_eq!(m["version"], MODEL_VERSION);
        let inputs = m["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0]["name"], INPUT_NAME);
        assert_eq!(inputs[0]["shape"][1], N_FEATURES);
        assert_eq!(strings(&inputs[0]["columns"]), FEATURE_COLUMNS);
        assert_eq!(output_names(&m), OUTPUT_NAMES);
        for o in m["outputs"].as_array().unwrap() {
            assert_eq!(strings(&o["columns"]), TARGETS);
        }
        let enc = &m["feature_encoding"]["type_code"];
        for (name, post_type) in [
            ("Photo", PostType::Photo),
            ("Status", PostType::Status),
            ("Link", PostType::Link),
            ("Video", PostType::Video),
        ] {
            assert_eq!(enc[name], type_code(post_type), "{name}");
        }
        assert!(
            m["feature_encoding"]["weekday"]
                .as_str()
                .unwrap()
                .contains("1=Sunday, 2=Monday")
        );
        assert_eq!(m["training_data"]["rows"], 400);
    }

    #[test]
    fn the_timing_model_takes_the_same_rows_and_answers_total_interactions() {
        let timing = metadata_of(TIMING_MODEL_NAME);
        let whole = metadata();
        assert_eq!(timing["name"], TIMING_MODEL_NAME);
        assert_eq!(timing["version"], MODEL_VERSION);
        assert_eq!(timing["inputs"], whole["inputs"]);
        assert_eq!(timing["feature_encoding"], whole["feature_encoding"]);
        assert_eq!(output_names(&timing), OUTPUT_NAMES);
        for o in timing["outputs"].as_array().unwrap() {
            assert_eq!(o["shape"], serde_json::json!(["N", 1]));
            assert_eq!(strings(&o["columns"]), [TARGETS[TOTAL_INTERACTIONS]]);
        }
    }

    #[test]
    fn training_counts_add_up() {
        let by_hour: u32 = TRAINING_POSTS_BY_HOUR.iter().map(|&n| u32::from(n)).sum();
        let by_type: u32 = TRAINING_POSTS_BY_TYPE.iter().map(|&n| u32::from(n)).sum();
        assert_eq!((by_hour, by_type), (400, 400));
        assert!(hour_has_low_data(0) && hour_has_low_data(20) && hour_has_low_data(16));
        assert!(!hour_has_low_data(3) && !hour_has_low_data(15) && !hour_has_low_data(10));
        assert!(hour_has_low_data(24));
    }

    /// The coverage tables must match the training CSV kept in the
    /// repository (`models/data/`, what `models/train.py` reads).
    #[test]
    fn training_counts_match_the_csv_when_present() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/data/uci-facebook-metrics/dataset_Facebook.csv"
        );
        let csv = std::fs::read_to_string(path).expect("the training CSV is in the repository");
        let mut hours = [0u16; 24];
        let mut types = [0u16; 4];
        let mut categories = [0u16; 3];
        let (mut lo, mut hi) = (u64::MAX, 0);
        for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(';').collect();
            let likes: u64 = f[0].parse().unwrap();
            (lo, hi) = (lo.min(likes), hi.max(likes));
            let t = ["Photo", "Status", "Link", "Video"]
                .iter()
                .position(|t| *t == f[1])
                .unwrap();
            types[t] += 1;
            categories[f[2].parse::<usize>().unwrap() - 1] += 1;
            hours[f[5].parse::<usize>().unwrap()] += 1;
        }
        assert_eq!(hours, TRAINING_POSTS_BY_HOUR);
        assert_eq!(types, TRAINING_POSTS_BY_TYPE);
        assert_eq!((lo, hi), TRAINING_LIKES_RANGE);
        let mode = categories
            .iter()
            .enumerate()
            .max_by_key(|(_, n)| **n)
            .unwrap()
            .0;
        assert_eq!(mode + 1, usize::from(DEFAULT_CATEGORY));
    }

    #[test]
    fn weekdays_follow_the_dataset() {
        assert_eq!(weekday_code(time::Weekday::Sunday), 1);
        assert_eq!(weekday_code(time::Weekday::Monday), 2);
        assert_eq!(weekday_code(time::Weekday::Saturday), 7);
        assert_eq!(weekday_name(1), "sunday");
        assert_eq!(weekday_name(7), "saturday");
        assert_eq!(weekday_name(0), "");
        assert_eq!(weekday_name(8), "");
    }

    #[test]
    fn tensor_is_row_major() {
        let rows = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0; 7]];
        let (shape, data) = features_tensor(&rows);
        assert_eq!(shape, vec![2, 7]);
        assert_eq!(data.len(), 14);
        assert_eq!(&data[..7], &rows[0]);
        assert_eq!(data[7], 8.0);
    }
}
