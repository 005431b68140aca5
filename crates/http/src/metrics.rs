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

use crate::BoxFuture;
use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One series: a count, a sum and cumulative buckets.
#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

type Key = (&'static str, &'static str, Method, u16);

/// The HTTP series of this process (every service it runs).
#[derive(Default)]
pub struct HttpMetrics {
    series: Mutex<HashMap<Key, Series>>,
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
        let secs = took.as_secs_f64();
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = m
            .entry((service, route, method.clone(), status.as_u16()))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (b, le) in s.buckets.iter_mut().zip(BUCKETS) {
            if secs <= le {
                *b += 1;
            }
        }
    }

    /// `service`'s series in Prometheus' text format.
    pub fn render(&self, service: &str) -> String {
        let m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(&Key, &Series)> = m.iter().filter(|(k, _)| k.0 == service).collect();
        rows.sort_by(|a, b| (a.0.1, a.0.2.as_str(), a.0.3).cmp(&(b.0.1, b.0.2.as_str(), b.0.3)));
        let mut out = String::new();
        out.push_str(
            "# HELP starling_http_requests_total HTTP answers, by service, route template, method and status.\n\
             # TYPE starling_http_requests_total counter\n",
        );
        for ((svc, route, method, status), s) in &rows {
            let labels = labels(svc, route, method.as_str(), *status);
            let _ = writeln!(out, "starling_http_requests_total{{{labels}}} {}", s.count);
        }
        out.push_str(
            "# HELP starling_http_request_duration_seconds Time to an HTTP answer's head, by service, route template, method and status.\n\
             # TYPE starling_http_request_duration_seconds histogram\n",
        );
        for ((svc, route, method, status), s) in &rows {
            let labels = labels(svc, route, method.as_str(), *status);
            for (le, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "starling_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "starling_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "starling_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "starling_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn labels(service: &str, route: &str, method: &str, status: u16) -> String {
    label_set(&[
        ("service", service),
        ("route", route),
        ("method", method),
        ("status", &status.to_string()),
    ])
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
    let mut out = format!("# HELP {name} {help}\n# TYPE {name} gauge\n");
    for (labels, v) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{}}} {v}", label_set(labels));
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
    }
}
