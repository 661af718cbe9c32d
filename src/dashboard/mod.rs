//! The dashboard: the page and its assets (embedded at build time), the chart
//! request's parameters and the chart itself, drawn as SVG on the server.
//! Depends inward only: domain types and the typed row query storage reads.

mod chart;
mod request;

pub use chart::{
    render_chart, render_days, ChartDay, ChartError, ChartSubject, CHART_HEIGHT, CHART_WIDTH,
};
pub use request::{ChartRequest, MAX_CHART_DAYS};

use crate::domain::Property;

/// The page, its script and its style, served as they are.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
pub const APP_JS: &str = include_str!("assets/app.js");
pub const APP_CSS: &str = include_str!("assets/app.css");

/// One device series: the property it reads, its label, and its colour, the
/// same in the chart, the legend and the page (app.css repeats them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub property: Property,
    pub label: &'static str,
    pub colour: (u8, u8, u8),
}

impl Device {
    /// `#RRGGBB`, as the SVG writes it.
    pub fn hex(&self) -> String {
        let (r, g, b) = self.colour;
        format!("#{r:02X}{g:02X}{b:02X}")
    }
}

/// The eight devices in Graph's order, coloured from a palette that stays
/// distinguishable with the common colour-vision deficiencies (Okabe-Ito).
pub const DEVICES: [Device; 8] = [
    Device {
        property: Property::Web,
        label: "Web",
        colour: (0xE6, 0x9F, 0x00),
    },
    Device {
        property: Property::WindowsPhone,
        label: "Windows Phone",
        colour: (0x56, 0xB4, 0xE9),
    },
    Device {
        property: Property::AndroidPhone,
        label: "Android Phone",
        colour: (0x00, 0x9E, 0x73),
    },
    Device {
        property: Property::Ios,
        label: "iOS",
        colour: (0xCC, 0x79, 0xA7),
    },
    Device {
        property: Property::Mac,
        label: "Mac",
        colour: (0x55, 0x55, 0x55),
    },
    Device {
        property: Property::Windows,
        label: "Windows",
        colour: (0x00, 0x72, 0xB2),
    },
    Device {
        property: Property::ChromeOs,
        label: "Chrome OS",
        colour: (0xD5, 0x5E, 0x00),
    },
    Device {
        property: Property::Linux,
        label: "Linux",
        colour: (0x7B, 0x52, 0xAE),
    },
];
