//! Prometheus metrics of the HTTP layer: every answer the guard lets
//! through or refuses is counted and timed by service, route template,
//! method and status, and each service serves its own series at `/metrics`
//! (Prometheus' text format 0.0.4, without a token, like the health routes).
//!
//! Route templates, never paths, are labels: a client cannot grow the
//! series by asking for new paths (an unrouted request is counted under
//! [`UNMATCHED`]). The time is to the answer's head (a streamed body may
//! still be sent after it).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use starling_common::histogram::{BOUNDS, Histogram};

use crate::BoxFuture;
use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "(unmatched)";

type Key = (&'static str, &'static str, Method, u16);

/// The HTTP series of this process (every service it runs).
#[derive(Default)]
pub struct HttpMetrics {
    series: Mutex<HashMap<Key, Histogram>>,
}

/// This process's HTTP series.
pub static HTTP: LazyLock<HttpMetrics> = LazyLock::new(HttpMetrics::default);

impl HttpMetrics {
    /// Counts one answer of `service` on `route` and its time.
    pub fn observe(
        &self,
        service: &'static str,
        route: &'static str,
        method: &Method,
        status: StatusCode,
        took: Duration,
    ) {
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((service, route, method.clone(), status.as_u16()))
            .or_default()
            .observe(took);
    }

    /// `service`'s series in Prometheus' text format.
    pub fn render(&self, service: &str) -> String {
        let m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(&Key, &Histogram)> = m.iter().filter(|(k, _)| k.0 == service).collect();
        rows.sort_by(|a, b| (a.0.1, a.0.2.as_str(), a.0.3).cmp(&(b.0.1, b.0.2.as_str(), b.0.3)));
        let status: Vec<String> = rows.iter().map(|(k, _)| k.3.to_string()).collect();
        let series: Vec<(Vec<(&str, &str)>, &Histogram)> = rows
            .iter()
            .zip(&status)
            .map(|((key, h), status)| {
                let (svc, route, method, _) = key;
                (
                    vec![
                        ("service", *svc),
                        ("route", *route),
                        ("method", method.as_str()),
                        ("status", status.as_str()),
                    ],
                    *h,
                )
            })
            .collect();
        let mut out = String::new();
        let samples: Vec<(Vec<(&str, &str)>, f64)> = series
            .iter()
            .map(|(l, h)| (l.clone(), h.count as f64))
            .collect();
        out.push_str(&family(
            "starling_http_requests_total",
            "HTTP answers, by service, route template, method and status.",
            "counter",
            &samples,
        ));
        out.push_str(&histogram(
            "starling_http_request_duration_seconds",
            "Time to an HTTP answer's head, by service, route template, method and status.",
            &series,
        ));
        out
    }
}

/// `name="value",…`, each value quoted as the text format quotes it.
fn label_set(pairs: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    pairs.join(",")
}

/// A label value as the text format quotes it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A service's own series, rendered at each scrape (gauges read from its
/// state or store), appended after the HTTP series.
pub type Gauges = Arc<dyn Fn() -> BoxFuture<'static, String> + Send + Sync>;

/// `GET /metrics`: `service`'s HTTP series, then `gauges`' text.
pub fn routes<S: Clone + Send + Sync + 'static>(
    service: &'static str,
    gauges: Option<Gauges>,
) -> Router<S> {
    Router::new().route(
        "/metrics",
        get(move || {
            let gauges = gauges.clone();
            async move {
                let mut body = HTTP.render(service);
                if let Some(g) = gauges {
                    body.push_str(&g().await);
                }
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    body,
                )
                    .into_response()
            }
        }),
    )
}

/// One gauge family in the text format: its help, its type and a sample
/// per `(labels, value)` (labels as `name="value"` pairs, unescaped).
pub fn gauge(name: &str, help: &str, samples: &[(Vec<(&str, &str)>, f64)]) -> String {
    family(name, help, "gauge", samples)
}

/// One counter family (a running total per label set), as [`gauge`].
pub fn counter(name: &str, help: &str, samples: &[(Vec<(&str, &str)>, f64)]) -> String {
    family(name, help, "counter", samples)
}

/// A family of one sample per label set (a gauge or a counter).
fn family(name: &str, help: &str, kind: &str, samples: &[(Vec<(&str, &str)>, f64)]) -> String {
    let mut out = format!("# HELP {name} {help}\n# TYPE {name} {kind}\n");
    for (labels, v) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{}}} {v}", label_set(labels));
        }
    }
    out
}

/// One histogram family in the text format: per label set its cumulative
/// buckets (`le`), `+Inf`, sum and count.
pub fn histogram(name: &str, help: &str, series: &[(Vec<(&str, &str)>, &Histogram)]) -> String {
    let mut out = format!("# HELP {name} {help}\n# TYPE {name} histogram\n");
    for (labels, h) in series {
        let labels = label_set(labels);
        let sep = if labels.is_empty() { "" } else { "," };
        for (le, n) in BOUNDS.iter().zip(h.buckets) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
        if labels.is_empty() {
            let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", h.sum, h.count);
        } else {
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_count_time_and_render_per_service() {
        let m = HttpMetrics::default();
        let ms = Duration::from_millis;
        m.observe("fm", "/v1/alarms", &Method::GET, StatusCode::OK, ms(3));
        m.observe("fm", "/v1/alarms", &Method::GET, StatusCode::OK, ms(30));
        m.observe("fm", UNMATCHED, &Method::GET, StatusCode::NOT_FOUND, ms(0));
        m.observe(
            "inventory",
            "/v1/ihosts",
            &Method::GET,
            StatusCode::OK,
            ms(1),
        );
        let text = m.render("fm");
        assert!(text.contains(
            "starling_http_requests_total{service=\"fm\",route=\"/v1/alarms\",method=\"GET\",status=\"200\"} 2\n"
        ), "{text}");
        let le = |b: &str| {
            format!(
                "starling_http_request_duration_seconds_bucket{{service=\"fm\",route=\"/v1/alarms\",method=\"GET\",status=\"200\",le=\"{b}\"}} "
            )
        };
        for (b, n) in [
            ("0.0025", 0),
            ("0.005", 1),
            ("0.025", 1),
            ("0.05", 2),
            ("+Inf", 2),
        ] {
            assert!(text.contains(&format!("{}{n}\n", le(b))), "{b}: {text}");
        }
        assert!(text.contains("route=\"(unmatched)\",method=\"GET\",status=\"404\"} 1\n"));
        assert!(
            !text.contains("inventory"),
            "one service's series only: {text}"
        );
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(
            gauge(
                "g",
                "A gauge.",
                &[(vec![("severity", "major")], 2.0), (vec![], 1.5)]
            ),
            "# HELP g A gauge.\n# TYPE g gauge\ng{severity=\"major\"} 2\ng 1.5\n"
        );
        let mut h = Histogram::default();
        h.observe(ms(2));
        let text = histogram("h", "A histogram.", &[(vec![], &h)]);
        assert!(
            text.starts_with(
                "# HELP h A histogram.\n# TYPE h histogram\nh_bucket{le=\"0.0005\"} 0\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "h_bucket{le=\"10\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.002\nh_count 1\n"
            ),
            "{text}"
        );
    }
}
