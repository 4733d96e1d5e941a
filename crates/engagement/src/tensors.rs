//! Decoding the models' output tensors: the whole model's into
//! [`Outputs`] (`[N, 4]` per quantile) and the timing head's into
//! [`TargetQuantiles`] (`[N, 1]` per quantile), with the checks both share:
//! `p10`, `p50` and `p90` present, of the expected shape, finite. Anything
//! else is the model and the step disagreeing on the contract
//! ([`EngineError::Contract`]).

use crate::encoding::{N_TARGETS, OUTPUT_NAMES};
use crate::engine::{EngineError, Outputs, TargetQuantiles};

impl Outputs {
    /// Decodes named output tensors `(name, shape, data)` for `rows` input
    /// rows: `p10`, `p50` and `p90` must each be `[rows, 4]` with finite
    /// values; other outputs are ignored.
    pub fn from_tensors<'a>(
        rows: usize,
        tensors: impl IntoIterator<Item = (&'a str, &'a [u32], &'a [f32])>,
    ) -> Result<Self, EngineError> {
        let [p10, p50, p90] = quantile_tensors(rows, N_TARGETS, tensors)?;
        let rows_of = |data: Vec<f32>| {
            data.chunks_exact(N_TARGETS)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect()
        };
        Ok(Outputs {
            p10: rows_of(p10),
            p50: rows_of(p50),
            p90: rows_of(p90),
        })
    }
}

/// Decodes the timing head's outputs for `rows` input rows: `p10`, `p50`
/// and `p90`, each `[rows, 1]` with finite values; other outputs are ignored.
pub fn timing_from_tensors<'a>(
    rows: usize,
    tensors: impl IntoIterator<Item = (&'a str, &'a [u32], &'a [f32])>,
) -> Result<Vec<TargetQuantiles>, EngineError> {
    let [p10, p50, p90] = quantile_tensors(rows, 1, tensors)?;
    Ok((0..rows)
        .map(|i| TargetQuantiles {
            p10: p10[i],
            p50: p50[i],
            p90: p90[i],
        })
        .collect())
}

/// The data of `p10`, `p50` and `p90`, each checked to be `[rows, width]`
/// and finite.
fn quantile_tensors<'a>(
    rows: usize,
    width: usize,
    tensors: impl IntoIterator<Item = (&'a str, &'a [u32], &'a [f32])>,
) -> Result<[Vec<f32>; 3], EngineError> {
    let mut found: [Option<Vec<f32>>; 3] = [None, None, None];
    for (name, shape, data) in tensors {
        let Some(slot) = OUTPUT_NAMES.iter().position(|n| *n == name) else {
            continue;
        };
        let want = [rows as u64, width as u64];
        let shape64: Vec<u64> = shape.iter().map(|&d| u64::from(d)).collect();
        if shape64 != want || data.len() != rows * width {
            return Err(EngineError::Contract(format!(
                "output '{name}' has shape {shape:?} and {} values; expected [{rows}, {width}]",
                data.len()
            )));
        }
        if let Some(bad) = data.iter().find(|v| !v.is_finite()) {
            return Err(EngineError::Contract(format!(
                "output '{name}' holds a non-finite value ({bad})"
            )));
        }
        found[slot] = Some(data.to_vec());
    }
    match found {
        [Some(p10), Some(p50), Some(p90)] => Ok([p10, p50, p90]),
        found => {
            let missing: Vec<&str> = found
                .iter()
                .zip(OUTPUT_NAMES)
                .filter(|(data, _)| data.is_none())
                .map(|(_, name)| name)
                .collect();
            Err(EngineError::Contract(format!(
                "the model returned no output named {}",
                missing.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_output_tensors() {
        let p10: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let p50: Vec<f32> = (0..8).map(|i| i as f32 + 10.0).collect();
        let p90: Vec<f32> = (0..8).map(|i| i as f32 + 20.0).collect();
        let shape = [2u32, 4];
        let extra = [1.0f32];
        let out = Outputs::from_tensors(
            2,
            [
                ("p90", &shape[..], &p90[..]),
                ("debug", &[1u32][..], &extra[..]),
                ("p10", &shape[..], &p10[..]),
                ("p50", &shape[..], &p50[..]),
            ],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out.p10[1], [4.0, 5.0, 6.0, 7.0]);
        assert_eq!(out.row(0).unwrap().p50, [10.0, 11.0, 12.0, 13.0]);
        assert_eq!(out.row(1).unwrap().p90, [24.0, 25.0, 26.0, 27.0]);
        assert_eq!(out.row(2), None);

        let e = Outputs::from_tensors(2, [("p10", &shape[..], &p10[..])]).unwrap_err();
        assert_eq!(
            e,
            EngineError::Contract("the model returned no output named p50, p90".into())
        );
        let e = Outputs::from_tensors(3, [("p10", &shape[..], &p10[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(m) if m.contains("expected [3, 4]")));
        let e = Outputs::from_tensors(2, [("p10", &[8u32][..], &p10[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(_)));
        let mut nan = p50.clone();
        nan[3] = f32::NAN;
        let e = Outputs::from_tensors(2, [("p50", &shape[..], &nan[..])]).unwrap_err();
        assert!(matches!(e, EngineError::Contract(m) if m.contains("non-finite")));
    }

    #[test]
    fn decodes_the_timing_heads_tensors() {
        let shape = [2u32, 1];
        let (p10, p50, p90) = ([1.0f32, 2.0], [3.0f32, 4.0], [5.0f32, 6.0]);
        let q = timing_from_tensors(
            2,
            [
                ("p50", &shape[..], &p50[..]),
                ("p10", &shape[..], &p10[..]),
                ("p90", &shape[..], &p90[..]),
            ],
        )
        .unwrap();
        assert_eq!(
            q[1],
            TargetQuantiles {
                p10: 2.0,
                p50: 4.0,
                p90: 6.0
            }
        );
        let whole = [2u32, 4];
        let e = timing_from_tensors(2, [("p10", &whole[..], &p10[..])]).unwrap_err();
        assert_eq!(
            e,
            EngineError::Contract(
                "output 'p10' has shape [2, 4] and 2 values; expected [2, 1]".into()
            )
        );
    }
}
