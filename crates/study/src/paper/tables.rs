//! The printed tables (generated once from the paper; edit only to fix a transcription).

use super::{Table2Row, Table3, Table3Row, Table6Row, eha};
use crate::plan::Regime;

/// Table 2, Qwen2.5-7B-Instruct: test avg@8 (easy / hard / all) per env, in the paper's row order.
pub const TABLE2_7B: [Table2Row; 6] = [
    Table2Row { regime: Regime::Base, cells: [eha(44.1, 17.4, 28.6), eha(79.6, 10.4, 31.2), eha(46.9, 16.0, 33.6), eha(40.2, 21.4, 26.6), eha(80.1, 47.9, 67.0)] },
    Table2Row { regime: Regime::UEasy, cells: [eha(88.1, 77.5, 82.0), eha(85.8, 21.1, 40.5), eha(98.2, 47.4, 76.4), eha(95.2, 89.7, 91.2), eha(95.2, 76.1, 87.2)] },
    Table2Row { regime: Regime::UHard, cells: [eha(87.9, 81.4, 84.2), eha(93.3, 27.0, 46.9), eha(99.3, 57.3, 81.3), eha(97.5, 94.6, 95.4), eha(92.8, 77.9, 86.5)] },
    Table2Row { regime: Regime::U, cells: [eha(92.9, 81.9, 86.5), eha(91.8, 26.6, 46.1), eha(95.2, 52.3, 80.9), eha(97.7, 97.2, 92.0), eha(95.6, 74.5, 88.8)] },
    Table2Row { regime: Regime::EasyToHard, cells: [eha(90.6, 77.5, 83.0), eha(89.8, 25.5, 44.8), eha(98.7, 64.0, 83.8), eha(96.1, 92.6, 93.6), eha(95.5, 82.9, 90.2)] },
    Table2Row { regime: Regime::HardToEasy, cells: [eha(89.1, 79.1, 83.3), eha(87.6, 21.5, 42.3), eha(99.8, 57.0, 81.4), eha(97.7, 88.5, 91.1), eha(92.5, 78.2, 86.5)] },
];

/// Table 2, Qwen2.5-3B-Instruct: test avg@8 (easy / hard / all) per env, in the paper's row order.
pub const TABLE2_3B: [Table2Row; 6] = [
    Table2Row { regime: Regime::Base, cells: [eha(21.7, 10.6, 15.3), eha(63.7, 6.5, 23.7), eha(23.7, 2.3, 14.5), eha(26.8, 8.0, 13.2), eha(71.5, 48.0, 61.6)] },
    Table2Row { regime: Regime::UEasy, cells: [eha(90.3, 75.3, 81.6), eha(82.7, 16.9, 36.6), eha(97.6, 49.4, 76.9), eha(93.2, 82.0, 85.1), eha(93.4, 79.0, 87.3)] },
    Table2Row { regime: Regime::UHard, cells: [eha(86.1, 84.5, 85.2), eha(72.5, 19.4, 35.3), eha(95.0, 42.2, 72.3), eha(96.1, 92.9, 93.8), eha(92.3, 77.3, 86.0)] },
    Table2Row { regime: Regime::U, cells: [eha(92.8, 84.3, 87.9), eha(87.6, 22.1, 41.8), eha(93.9, 47.4, 73.9), eha(97.0, 89.8, 91.8), eha(93.2, 77.5, 86.6)] },
    Table2Row { regime: Regime::EasyToHard, cells: [eha(93.6, 85.2, 88.7), eha(82.1, 19.8, 38.5), eha(93.9, 52.9, 76.3), eha(97.3, 93.4, 94.4), eha(94.5, 82.2, 89.3)] },
    Table2Row { regime: Regime::HardToEasy, cells: [eha(90.2, 82.4, 85.7), eha(82.0, 18.7, 37.7), eha(97.8, 40.1, 73.0), eha(95.5, 92.3, 93.6), eha(94.5, 80.4, 88.6)] },
];

/// Table 3, Qwen2.5-3B-Instruct: test avg@8 after training on one env, with the printed deltas.
pub const TABLE3_3B: Table3 = Table3 {
    base: [15.30, 23.66, 14.50, 13.19, 61.83],
    rows: [
        Table3Row { trained_on: 0, scores: [87.86, 25.84, 18.50, 23.06, 70.91], held_in: 72.56, held_out: 6.29, overall: 19.54 },
        Table3Row { trained_on: 1, scores: [22.97, 41.78, 22.75, 12.13, 65.72], held_in: 18.13, held_out: 4.69, overall: 4.56 },
        Table3Row { trained_on: 2, scores: [14.46, 22.16, 73.88, 11.00, 63.73], held_in: 59.38, held_out: -0.66, overall: 11.35 },
        Table3Row { trained_on: 3, scores: [21.86, 23.50, 24.88, 91.81, 64.68], held_in: 78.62, held_out: 4.91, overall: 19.65 },
        Table3Row { trained_on: 4, scores: [28.36, 22.63, 16.75, 4.50, 86.55], held_in: 24.72, held_out: 1.40, overall: 6.06 },
    ],
};

/// Table 3, Qwen2.5-7B-Instruct: test avg@8 after training on one env, with the printed deltas.
pub const TABLE3_7B: Table3 = Table3 {
    base: [28.59, 31.19, 33.63, 26.56, 67.00],
    rows: [
        Table3Row { trained_on: 0, scores: [86.50, 33.28, 40.75, 24.13, 79.21], held_in: 57.91, held_out: 4.75, overall: 15.38 },
        Table3Row { trained_on: 1, scores: [47.07, 46.12, 35.25, 16.75, 80.33], held_in: 14.93, held_out: 5.91, overall: 7.71 },
        Table3Row { trained_on: 2, scores: [38.30, 32.19, 80.88, 31.50, 77.95], held_in: 47.25, held_out: 6.65, overall: 14.77 },
        Table3Row { trained_on: 3, scores: [34.31, 29.59, 36.13, 92.00, 72.91], held_in: 65.44, held_out: 3.13, overall: 15.59 },
        Table3Row { trained_on: 4, scores: [10.25, 29.41, 39.25, 28.13, 88.79], held_in: 21.79, held_out: -3.23, overall: 1.77 },
    ],
};

/// Table 6, Qwen2.5-7B-Instruct: test avg@8 of all five envs after two-stage training (upstream env, then downstream env).
pub const TABLE6_7B: [Table6Row; 20] = [
    Table6Row { upstream: 0, downstream: 1, scores: [85.08, 41.44, 44.63, 17.81, 78.88] },
    Table6Row { upstream: 0, downstream: 2, scores: [86.32, 36.81, 82.50, 26.63, 81.68] },
    Table6Row { upstream: 0, downstream: 3, scores: [85.99, 34.22, 43.75, 90.69, 76.34] },
    Table6Row { upstream: 0, downstream: 4, scores: [86.38, 33.97, 49.25, 25.50, 87.74] },
    Table6Row { upstream: 1, downstream: 0, scores: [80.35, 46.16, 34.50, 18.44, 78.59] },
    Table6Row { upstream: 1, downstream: 2, scores: [49.31, 46.19, 78.63, 26.06, 78.03] },
    Table6Row { upstream: 1, downstream: 3, scores: [39.42, 42.92, 41.00, 94.00, 81.29] },
    Table6Row { upstream: 1, downstream: 4, scores: [44.36, 45.44, 25.00, 14.06, 89.62] },
    Table6Row { upstream: 2, downstream: 0, scores: [84.33, 34.59, 77.00, 18.31, 78.44] },
    Table6Row { upstream: 2, downstream: 1, scores: [39.17, 43.16, 71.63, 19.69, 78.97] },
    Table6Row { upstream: 2, downstream: 3, scores: [42.04, 31.56, 76.50, 90.38, 62.19] },
    Table6Row { upstream: 2, downstream: 4, scores: [23.00, 33.37, 74.88, 22.81, 87.55] },
    Table6Row { upstream: 3, downstream: 0, scores: [82.95, 31.50, 35.88, 87.75, 49.65] },
    Table6Row { upstream: 3, downstream: 1, scores: [53.04, 44.66, 43.50, 90.63, 77.86] },
    Table6Row { upstream: 3, downstream: 2, scores: [50.31, 30.81, 76.00, 91.19, 77.01] },
    Table6Row { upstream: 3, downstream: 4, scores: [25.68, 28.31, 39.25, 85.56, 75.59] },
    Table6Row { upstream: 4, downstream: 0, scores: [83.60, 30.19, 36.38, 33.38, 90.66] },
    Table6Row { upstream: 4, downstream: 1, scores: [33.71, 38.84, 40.63, 24.06, 89.37] },
    Table6Row { upstream: 4, downstream: 2, scores: [17.95, 33.37, 86.00, 29.31, 88.60] },
    Table6Row { upstream: 4, downstream: 3, scores: [13.60, 29.88, 41.25, 92.50, 89.32] },
];
