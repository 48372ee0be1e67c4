//! `dashboard-preview`: renders every panel of the Grafana dashboard JSON
//! (manifests/monitoring/dashboard.json) from a live Prometheus into one PNG, laid out on the
//! dashboard's own grid: time series as lines, bar gauges as bars, stats as a number. The font
//! is read from a TTF file at start (no fontconfig). `make dashboard-preview` runs it against the
//! Prometheus of the install tests, after their traffic.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::Parser;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;

#[derive(Parser)]
#[command(name = "dashboard-preview")]
struct Args {
    /// Prometheus address (host:port, plain HTTP).
    #[arg(long)]
    prometheus: SocketAddr,
    /// The dashboard JSON.
    #[arg(long, default_value = "manifests/monitoring/dashboard.json")]
    dashboard: PathBuf,
    /// Output PNG.
    #[arg(long, default_value = "docs/dashboard.png")]
    out: PathBuf,
    /// TrueType font for all text.
    #[arg(
        long,
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    font: PathBuf,
    /// Time range shown, in seconds (also Grafana's `$__range`).
    #[arg(long, default_value_t = 900)]
    range: u64,
    /// `$__rate_interval`.
    #[arg(long, default_value = "1m")]
    rate_interval: String,
}

const CELL_W: i32 = 64;
const CELL_H: i32 = 34;
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `data.result` of a Prometheus API GET (HTTP/1.0, so never chunked).
fn api(addr: SocketAddr, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).context("connect")?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .context("no HTTP body")?;
    let v: Value = serde_json::from_str(body).context("Prometheus answer is not JSON")?;
    if v["status"] != "success" {
        bail!("Prometheus: {v}");
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// A legend from `legendFormat` (`{{label}}` placeholders) and a series' labels.
fn legend(format: &str, metric: &Value) -> String {
    let mut out = format.to_string();
    if let Some(labels) = metric.as_object() {
        for (k, v) in labels {
            out = out.replace(&format!("{{{{{k}}}}}"), v.as_str().unwrap_or(""));
        }
    }
    if out.is_empty() { "value".into() } else { out }
}

fn number(v: &Value) -> Option<f64> {
    v.as_str()?.parse().ok().filter(|f: &f64| f.is_finite())
}

/// A value in the panel's unit, short.
fn show(v: f64, unit: &str) -> String {
    match unit {
        "s" if v.abs() >= 86_400.0 => format!("{:.1} d", v / 86_400.0),
        "s" if v.abs() >= 3_600.0 => format!("{:.1} h", v / 3_600.0),
        "s" if v.abs() >= 1.0 => format!("{v:.2} s"),
        "s" if v.abs() >= 0.001 => format!("{:.2} ms", v * 1e3),
        "s" => format!("{:.0} µs", v * 1e6),
        "reqps" | "ops" => format!("{v:.2}/s"),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let font =
        std::fs::read(&args.font).with_context(|| format!("font {}", args.font.display()))?;
    // plotters keeps registered fonts for the whole process.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| anyhow::anyhow!("{} is not a usable font", args.font.display()))?;

    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(&args.dashboard)
            .with_context(|| format!("{}", args.dashboard.display()))?,
    )
    .context("dashboard JSON")?;
    let panels: Vec<Value> = dash["panels"].as_array().cloned().unwrap_or_default();
    let rows = panels
        .iter()
        .map(|p| p["gridPos"]["y"].as_i64().unwrap_or(0) + p["gridPos"]["h"].as_i64().unwrap_or(0))
        .max()
        .unwrap_or(1);
    let height = u32::try_from(i64::from(CELL_H) * rows + 60).context("dashboard too tall")?;
    let width = u32::try_from(CELL_W * 24).unwrap_or(1536);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("clock")?
        .as_secs_f64();
    let start = now - args.range as f64;
    let step = (args.range / 120).max(1);
    let range = format!("{}s", args.range);

    let root = BitMapBackend::new(&args.out, (width, height)).into_drawing_area();
    root.fill(&RGBColor(250, 250, 250))?;
    let title = dash["title"].as_str().unwrap_or("dashboard");
    root.draw(&Text::new(
        format!("{title} — last {} min", args.range / 60),
        (12, 14),
        ("sans-serif", 24).into_font(),
    ))?;
    let grid = root.margin(50, 0, 0, 0);
    let mut empty = Vec::new();

    for panel in &panels {
        let pos = &panel["gridPos"];
        let (x, y, w, h) = (
            pos["x"].as_i64().unwrap_or(0) as i32 * CELL_W,
            pos["y"].as_i64().unwrap_or(0) as i32 * CELL_H,
            pos["w"].as_i64().unwrap_or(24) as i32 * CELL_W,
            pos["h"].as_i64().unwrap_or(1) as i32 * CELL_H,
        );
        let title = panel["title"].as_str().unwrap_or("");
        let area = grid.clone().shrink(
            (x + 4, y + 4),
            ((w - 8).max(10) as u32, (h - 8).max(10) as u32),
        );
        if panel["type"] == "row" {
            area.draw(&Text::new(
                title.to_string(),
                (2, 6),
                ("sans-serif", 20).into_font(),
            ))?;
            continue;
        }
        area.fill(&WHITE)?;
        let unit = panel["fieldConfig"]["defaults"]["unit"]
            .as_str()
            .unwrap_or("short");
        let mut series = Vec::new();
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap_or("")
                .replace("$__rate_interval", &args.rate_interval)
                .replace("$__range", &range);
            let format = target["legendFormat"].as_str().unwrap_or("");
            if panel["type"] == "timeseries" {
                let path = format!(
                    "/api/v1/query_range?query={}&start={start:.0}&end={now:.0}&step={step}",
                    percent_encode(&expr)
                );
                for s in api(args.prometheus, &path)? {
                    let points = s["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| Some((p[0].as_f64()? - now, number(&p[1])?)))
                        .collect();
                    series.push(Series {
                        name: legend(format, &s["metric"]),
                        points,
                    });
                }
            } else {
                let path = format!(
                    "/api/v1/query?query={}&time={now:.0}",
                    percent_encode(&expr)
                );
                for s in api(args.prometheus, &path)? {
                    if let Some(v) = number(&s["value"][1]) {
                        series.push(Series {
                            name: legend(format, &s["metric"]),
                            points: vec![(0.0, v)],
                        });
                    }
                }
            }
        }
        if series.is_empty() {
            empty.push(title.to_string());
        }
        match panel["type"].as_str() {
            Some("timeseries") => draw_lines(&area, title, unit, &series, args.range as f64)?,
            Some("bargauge") => draw_bars(&area, title, unit, &series)?,
            _ => draw_stat(&area, title, unit, &series)?,
        }
    }
    root.present()
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("{}", args.out.display());
    if !empty.is_empty() {
        bail!("panels without data: {empty:?}");
    }
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw_lines(
    area: &Area<'_>,
    title: &str,
    unit: &str,
    series: &[Series],
    range: f64,
) -> anyhow::Result<()> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(lo + 1e-9) * 1.1)
    } else {
        (0.0, 1.0)
    };
    let legend_w = (area.dim_in_pixel().0 / 3).min(260);
    let (plot, side) = area.split_horizontally(area.dim_in_pixel().0 - legend_w);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 15))
        .margin(6)
        .x_label_area_size(18)
        .y_label_area_size(58)
        .build_cartesian_2d(-range..0.0, lo..hi)?;
    chart
        .configure_mesh()
        .x_labels(4)
        .y_labels(4)
        .x_label_formatter(&|t| format!("{:.0}s", t))
        .y_label_formatter(&|v| show(*v, unit))
        .label_style(("sans-serif", 11))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?;
        if i < 8 {
            let y = 30 + i as i32 * 15;
            side.draw(&Rectangle::new([(4, y), (14, y + 8)], color.filled()))?;
            side.draw(&Text::new(
                clip(&s.name, 34),
                (18, y - 2),
                ("sans-serif", 11).into_font(),
            ))?;
        }
    }
    Ok(())
}

fn draw_bars(area: &Area<'_>, title: &str, unit: &str, series: &[Series]) -> anyhow::Result<()> {
    area.draw(&Text::new(
        title.to_string(),
        (8, 4),
        ("sans-serif", 15).into_font(),
    ))?;
    let mut rows: BTreeMap<String, f64> = BTreeMap::new();
    for s in series {
        rows.insert(s.name.clone(), s.points.first().map(|p| p.1).unwrap_or(0.0));
    }
    let mut rows: Vec<(String, f64)> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let (w, h) = area.dim_in_pixel();
    let shown = ((h as i32 - 30) / 18).max(1) as usize;
    let label_w = (w as i32 * 45) / 100;
    for (i, (name, v)) in rows.iter().take(shown).enumerate() {
        let y = 28 + i as i32 * 18;
        area.draw(&Text::new(
            clip(name, 44),
            (8, y),
            ("sans-serif", 11).into_font(),
        ))?;
        let bar = ((w as i32 - label_w - 70) as f64 * v / max) as i32;
        area.draw(&Rectangle::new(
            [(label_w, y), (label_w + bar.max(1), y + 12)],
            PALETTE[i % PALETTE.len()].filled(),
        ))?;
        area.draw(&Text::new(
            show(*v, unit),
            (label_w + bar + 6, y),
            ("sans-serif", 11).into_font(),
        ))?;
    }
    Ok(())
}

fn draw_stat(area: &Area<'_>, title: &str, unit: &str, series: &[Series]) -> anyhow::Result<()> {
    area.draw(&Text::new(
        title.to_string(),
        (8, 4),
        ("sans-serif", 15).into_font(),
    ))?;
    for (i, s) in series.iter().take(3).enumerate() {
        let v = s.points.first().map(|p| p.1).unwrap_or(0.0);
        let y = 34 + i as i32 * 44;
        area.draw(&Text::new(
            show(v, unit),
            (12, y),
            ("sans-serif", 30).into_font().color(&PALETTE[i]),
        ))?;
        if series.len() > 1 {
            area.draw(&Text::new(
                clip(&s.name, 40),
                (12, y + 32),
                ("sans-serif", 10).into_font(),
            ))?;
        }
    }
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
