//! Plots with plotters: line charts (training curves) and grouped bar charts (turns, tokens,
//! failure modes), each drawn once per backend — SVG (inlined in the HTML report) and PNG.
//!
//! Text is rendered with the DejaVu Sans font embedded in the crate (`data/fonts`), through
//! plotters' `ab_glyph` feature, so PNGs have labels on machines without any system font.

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Result, StudyError};

/// A chart with f64 axes.
type Axes<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

static FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is valid; a failure here would show as missing text, not a crash.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One line of a line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points `(x, y)`, ascending in x.
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows.
#[derive(Clone, Debug, PartialEq)]
pub enum ChartData {
    /// Lines over a numeric x axis.
    Lines(Vec<Series>),
    /// Grouped bars: one group of bars per category, one bar per named group (`None`: no bar).
    Bars {
        /// Category labels along x.
        categories: Vec<String>,
        /// `(legend label, one value per category)`.
        groups: Vec<(String, Vec<Option<f64>>)>,
    },
}

/// A chart to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// File-safe name (`figure2-turns`).
    pub name: String,
    /// Title drawn on top.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The data.
    pub data: ChartData,
}

const SIZE: (u32, u32) = (960, 540);

impl Chart {
    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        match &self.data {
            ChartData::Lines(series) => series.iter().all(|s| s.points.is_empty()),
            ChartData::Bars { groups, .. } => {
                groups.iter().all(|(_, v)| v.iter().all(Option::is_none))
            }
        }
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| self.error(e))?;
        }
        Ok(svg)
    }

    /// Writes the chart as a PNG file.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        register_font();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StudyError::io(parent, e))?;
        }
        let root = BitMapBackend::new(path, SIZE).into_drawing_area();
        self.draw(&root)?;
        root.present().map_err(|e| self.error(e))
    }

    fn error(&self, e: impl std::fmt::Display) -> StudyError {
        StudyError::Plot {
            name: self.name.clone(),
            message: e.to_string(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(|e| self.error(e))?;
        match &self.data {
            ChartData::Lines(series) => self.draw_lines(root, series),
            ChartData::Bars { categories, groups } => self.draw_bars(root, categories, groups),
        }
    }

    /// The chart area with the title, over `x` × `y`.
    fn chart<'a, DB: DrawingBackend>(
        &self,
        root: &'a DrawingArea<DB, Shift>,
        x: Range<f64>,
        y: Range<f64>,
    ) -> Result<Axes<'a, DB>> {
        ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(x, y)
            .map_err(|e| self.error(e))
    }

    /// The series' legend, top right.
    fn draw_legend<'a, DB: DrawingBackend + 'a>(&self, chart: &mut Axes<'a, DB>) -> Result<()> {
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| self.error(e))
    }

    fn draw_lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        series: &[Series],
    ) -> Result<()> {
        let points = series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in points {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 - x0 < 1e-9 {
            x1 = x0 + 1.0;
        }
        let pad = ((y1 - y0) * 0.1).max(1.0);
        let mut chart = self.chart(root, x0..x1, (y0 - pad).max(0.0)..y1 + pad)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| self.error(e))?;
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| self.error(e))?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(s.points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(|e| self.error(e))?;
        }
        self.draw_legend(&mut chart)
    }

    fn draw_bars<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        categories: &[String],
        groups: &[(String, Vec<Option<f64>>)],
    ) -> Result<()> {
        let top = groups
            .iter()
            .flat_map(|(_, v)| v.iter().flatten())
            .fold(0.0_f64, |a, b| a.max(*b))
            .max(1e-9)
            * 1.15;
        let n = categories.len().max(1) as f64;
        let mut chart = self.chart(root, 0.0..n, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| self.error(e))?;
        let width = 0.8 / groups.len().max(1) as f64;
        for (g, (name, values)) in groups.iter().enumerate() {
            let color = Palette99::pick(g).to_rgba();
            let bars = values.iter().enumerate().filter_map(|(c, v)| {
                let left = c as f64 + 0.1 + g as f64 * width;
                v.map(|v| Rectangle::new([(left, 0.0), (left + width, v)], color.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(|e| self.error(e))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (c, label) in categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(c as f64 + 0.5, 0.0));
            root.draw(&Text::new(label.clone(), (px, py + 6), style.clone()))
                .map_err(|e| self.error(e))?;
        }
        self.draw_legend(&mut chart)
    }
}
