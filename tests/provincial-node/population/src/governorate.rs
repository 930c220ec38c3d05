//! Where households live: the governorates with their share of the population and of Kurdish
//! households. Codes are the reference node's (`provincial-node`'s `geography` module).

use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;

/// A governorate as the generator needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Governorate {
    /// The code the node uses, e.g. `BGD`.
    pub code: &'static str,
    /// Population in millions (rounded estimates of the 2020s; proportions are what matter).
    pub population: f64,
    /// Share of households writing their names in Kurdish Sorani script.
    pub kurdish_share: f64,
}

/// The nineteen governorates (the eighteen of 2003 and Halabja).
pub const GOVERNORATES: &[Governorate] = &[
    Governorate { code: "BGD", population: 8.3, kurdish_share: 0.03 },
    Governorate { code: "NIN", population: 3.9, kurdish_share: 0.08 },
    Governorate { code: "BSR", population: 3.1, kurdish_share: 0.0 },
    Governorate { code: "SUL", population: 2.2, kurdish_share: 0.95 },
    Governorate { code: "DHQ", population: 2.2, kurdish_share: 0.0 },
    Governorate { code: "BBL", population: 2.1, kurdish_share: 0.0 },
    Governorate { code: "ERB", population: 1.9, kurdish_share: 0.9 },
    Governorate { code: "ANB", population: 1.8, kurdish_share: 0.0 },
    Governorate { code: "DYL", population: 1.7, kurdish_share: 0.1 },
    Governorate { code: "SLD", population: 1.6, kurdish_share: 0.03 },
    Governorate { code: "KRK", population: 1.6, kurdish_share: 0.35 },
    Governorate { code: "NJF", population: 1.5, kurdish_share: 0.0 },
    Governorate { code: "WST", population: 1.4, kurdish_share: 0.01 },
    Governorate { code: "DHK", population: 1.4, kurdish_share: 0.9 },
    Governorate { code: "QAD", population: 1.3, kurdish_share: 0.0 },
    Governorate { code: "KRB", population: 1.2, kurdish_share: 0.0 },
    Governorate { code: "MYS", population: 1.1, kurdish_share: 0.0 },
    Governorate { code: "MTH", population: 0.8, kurdish_share: 0.0 },
    Governorate { code: "HLB", population: 0.11, kurdish_share: 0.98 },
];

/// The Kurdistan Region's governorates.
pub const KURDISTAN_REGION: &[&str] = &["ERB", "SUL", "DHK", "HLB"];

/// Draws governorates by population.
#[derive(Debug, Clone)]
pub struct GovernorateDraw {
    weights: WeightedIndex<f64>,
}

impl Default for GovernorateDraw {
    fn default() -> Self {
        GovernorateDraw {
            weights: WeightedIndex::new(GOVERNORATES.iter().map(|g| g.population))
                .expect("governorate populations are positive"),
        }
    }
}

impl GovernorateDraw {
    /// A governorate drawn by population.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> &'static Governorate {
        &GOVERNORATES[self.weights.sample(rng)]
    }

    /// A governorate other than `code`, drawn by population.
    pub fn sample_other<R: Rng>(&self, rng: &mut R, code: Option<&str>) -> &'static Governorate {
        loop {
            let g = self.sample(rng);
            if Some(g.code) != code {
                return g;
            }
        }
    }
}
