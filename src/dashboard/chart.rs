//! The device counts over time as one SVG: a line per device, a legend beside
//! the plot, a `<title>` and a text alternative. Drawn by `plotters`, whose SVG
//! backend writes text as SVG `<text>`, so no font is needed on the server.

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Device, DEVICES};
use crate::domain::{DistributionRow, Property, ReportPeriod};

pub const CHART_WIDTH: u32 = 960;
pub const CHART_HEIGHT: u32 = 400;
const LEGEND_WIDTH: u32 = 150;
/// Up to this many dates each point also gets a marker, so a lone date shows.
const MARKED_POINTS: usize = 60;

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError(error.to_string())
}

/// One date of a chart: each device's count in `DEVICES` order, `None` where
/// the date has no value for it. A tenant's row and a roll-up's summed day are
/// both drawn through this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartDay {
    pub date: NaiveDate,
    pub counts: [Option<i64>; DEVICES.len()],
}

impl ChartDay {
    /// A day from `(property, count)` pairs; properties that are not devices are ignored.
    pub fn from_counts(
        date: NaiveDate,
        counts: impl IntoIterator<Item = (Property, Option<i64>)>,
    ) -> Self {
        let mut day = Self {
            date,
            counts: [None; DEVICES.len()],
        };
        for (property, count) in counts {
            if let Some(index) = DEVICES.iter().position(|d| d.property == property) {
                day.counts[index] = count;
            }
        }
        day
    }

    fn count(&self, index: usize) -> Option<i64> {
        self.counts[index]
    }
}

impl From<&DistributionRow> for ChartDay {
    fn from(row: &DistributionRow) -> Self {
        Self {
            date: row.report_refresh_date,
            counts: DEVICES.map(|d| row.counts.get(d.property).map(|c| c.get())),
        }
    }
}

/// Whose counts a chart draws: its title and the words of its text alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartSubject {
    /// One tenant's stored rows.
    Tenant,
    /// The counts summed over tenants.
    AllTenants,
}

/// The chart of `rows` (any order, one period), as a standalone SVG document.
pub fn render_chart(rows: &[DistributionRow], period: ReportPeriod) -> Result<String, ChartError> {
    let days: Vec<ChartDay> = rows.iter().map(ChartDay::from).collect();
    render_days(days, period, ChartSubject::Tenant)
}

/// The chart of `days` (any order, one period), as a standalone SVG document.
pub fn render_days(
    mut days: Vec<ChartDay>,
    period: ReportPeriod,
    subject: ChartSubject,
) -> Result<String, ChartError> {
    days.sort_by_key(|day| day.date);
    let rows = &days;
    let mut svg = String::with_capacity(4096 + rows.len() * DEVICES.len() * 12);
    {
        let root =
            SVGBackend::with_string(&mut svg, (CHART_WIDTH, CHART_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let (plot, legend) = root.split_horizontally(CHART_WIDTH - LEGEND_WIDTH);
        draw_legend(&legend)?;
        match (rows.first(), rows.last()) {
            (Some(first), Some(last)) => draw_lines(&plot, rows, first.date, last.date)?,
            _ => {
                let style = ("sans-serif", 20).into_font().color(&RGBColor(90, 90, 90));
                let (w, h) = plot.dim_in_pixel();
                plot.draw_text(
                    "No rows for this period and range",
                    &style.pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    )),
                    (w as i32 / 2, h as i32 / 2),
                )
                .map_err(failed)?;
            }
        }
        root.present().map_err(failed)?;
    }
    Ok(with_title(svg, &describe(rows, period, subject)))
}

fn draw_lines(
    plot: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[ChartDay],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(), ChartError> {
    let day = |date: NaiveDate| (date - first).num_days() as i32;
    // A single date still gets a visible x range around it.
    let x_range = if first == last { -1..1 } else { 0..day(last) };
    let highest = rows
        .iter()
        .flat_map(|row| row.counts.iter().flatten().copied())
        .max()
        .unwrap_or(0);
    // A tenth of headroom above the highest line. Counts go up to Int64's
    // maximum, so the axis is i128: neither the headroom nor the axis's tick
    // arithmetic can overflow.
    let highest = i128::from(highest);
    let y_top = (highest + highest / 10).max(1);
    let mut chart = ChartBuilder::on(plot)
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, 0i128..y_top)
        .map_err(failed)?;
    let date_label = |x: &i32| (first + chrono::Duration::days(i64::from(*x))).to_string();
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&date_label)
        .light_line_style(RGBColor(236, 236, 236))
        .bold_line_style(RGBColor(214, 214, 214))
        .axis_style(RGBColor(140, 140, 140))
        .label_style(("sans-serif", 16).into_font().color(&RGBColor(60, 60, 60)))
        .y_desc("users")
        .draw()
        .map_err(failed)?;
    for (index, device) in DEVICES.iter().enumerate() {
        let colour = colour(device);
        let points: Vec<(i32, i128)> = rows
            .iter()
            .filter_map(|row| Some((day(row.date), i128::from(row.count(index)?))))
            .collect();
        if points.len() <= MARKED_POINTS {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(failed)?;
        }
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(failed)?;
    }
    Ok(())
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError> {
    let font = ("sans-serif", 17).into_font().color(&RGBColor(40, 40, 40));
    for (index, device) in DEVICES.iter().enumerate() {
        let y = 28 + index as i32 * 26;
        area.draw(&Rectangle::new(
            [(4, y), (22, y + 14)],
            colour(device).filled(),
        ))
        .map_err(failed)?;
        area.draw_text(device.label, &font, (30, y))
            .map_err(failed)?;
    }
    Ok(())
}

fn colour(device: &Device) -> RGBColor {
    let (r, g, b) = device.colour;
    RGBColor(r, g, b)
}

/// The text alternative: what the chart shows, and the latest counts.
fn describe(rows: &[ChartDay], period: ReportPeriod, subject: ChartSubject) -> (String, String) {
    let (whose, dates) = match subject {
        ChartSubject::Tenant => ("", "reports"),
        ChartSubject::AllTenants => (", all tenants", "dates summed over the tenants"),
    };
    let title = format!("Teams users by device{whose}, {period}-day reports");
    let description = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => {
            let latest: Vec<String> = DEVICES
                .iter()
                .enumerate()
                .filter_map(|(index, d)| Some(format!("{} {}", d.label, last.count(index)?)))
                .collect();
            format!(
                "{} {dates} from {} to {}, one line per device. On {}: {}.",
                rows.len(),
                first.date,
                last.date,
                last.date,
                latest.join(", ")
            )
        }
        _ => "No rows are stored for this period and range.".to_owned(),
    };
    (title, description)
}

/// Adds `role`, `<title>` and `<desc>` right after the opening `<svg>` tag and
/// lets the page size the chart.
fn with_title(svg: String, (title, description): &(String, String)) -> String {
    let Some(open_end) = svg.find('>') else {
        return svg;
    };
    let (open, rest) = svg.split_at(open_end);
    let open = open.replacen(
        &format!(r#"width="{CHART_WIDTH}" height="{CHART_HEIGHT}" "#),
        "",
        1,
    );
    format!(
        "{open} role=\"img\" aria-labelledby=\"chart-title chart-desc\" \
         preserveAspectRatio=\"xMidYMid meet\"><title id=\"chart-title\">{}</title>\
         <desc id=\"chart-desc\">{}</desc>{}",
        escape(title),
        escape(description),
        &rest[1..]
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{DeviceCounts, NewDistributionRow, TenantId, UserCount};

    fn row(day: u32, base: i64) -> DistributionRow {
        let count = |n: i64| UserCount::new(base + n).unwrap();
        DistributionRow::create(
            TenantId::parse("default").unwrap(),
            NewDistributionRow {
                report_refresh_date: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
                report_period: ReportPeriod::D7,
                counts: DeviceCounts {
                    web: count(1),
                    windows_phone: count(2),
                    android_phone: count(3),
                    ios: count(4),
                    mac: count(5),
                    windows: count(6),
                    chrome_os: Some(count(7)),
                    linux: None,
                },
            },
            Utc::now(),
        )
    }

    #[test]
    fn draws_a_titled_line_per_device_with_values() {
        let svg = render_chart(&[row(2, 10), row(1, 0)], ReportPeriod::D7).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains("<title id=\"chart-title\">Teams users by device, 7-day reports</title>")
        );
        assert!(
            svg.contains("On 2026-03-02: Web 11, Windows Phone 12"),
            "{svg}"
        );
        // Linux has no value in these rows: seven lines.
        assert_eq!(
            svg.matches(r#"stroke-width="2" points"#).count(),
            7,
            "{svg}"
        );
        for device in &DEVICES {
            assert!(svg.contains(device.label));
        }
    }

    #[test]
    fn draws_counts_up_to_int64s_maximum() {
        let highest = i64::MAX - 7;
        let svg = render_chart(&[row(1, 0), row(2, highest)], ReportPeriod::D7).unwrap();
        assert!(svg.contains(&format!("Web {}", highest + 1)), "{svg}");
        assert_eq!(svg.matches(r#"stroke-width="2" points"#).count(), 7);
    }

    #[test]
    fn draws_summed_days_with_their_own_title() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let day = ChartDay::from_counts(
            date,
            [
                (Property::Web, Some(30)),
                (Property::Windows, Some(70)),
                (Property::Linux, None),
                (Property::ReportPeriod, Some(7)),
            ],
        );
        assert_eq!(day.counts[0], Some(30));
        assert_eq!(day.counts[5], Some(70));
        let svg = render_days(vec![day], ReportPeriod::D7, ChartSubject::AllTenants).unwrap();
        assert!(svg.contains("Teams users by device, all tenants, 7-day reports"));
        assert!(
            svg.contains("1 dates summed over the tenants from 2026-03-01 to 2026-03-01"),
            "{svg}"
        );
        assert!(svg.contains("On 2026-03-01: Web 30, Windows 70."), "{svg}");
        assert_eq!(svg.matches(r#"stroke-width="2" points"#).count(), 2);
    }

    #[test]
    fn says_when_there_is_nothing_to_draw() {
        let svg = render_chart(&[], ReportPeriod::D30).unwrap();
        assert!(svg.contains("No rows for this period and range"));
        assert!(svg.contains("<desc id=\"chart-desc\">No rows are stored"));
    }
}
