//! Shared pieces of Starling's command-line clients: the HTTP client with
//! StarlingX error handling, `--format table|json|yaml` output, the `-q` query
//! syntax, and confirmations.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

pub mod auth;

/// How a CLI reaches servers: timeout and TLS trust.
#[derive(Clone, Debug)]
pub struct Transport {
    /// Per-request timeout.
    pub timeout: Duration,
    /// A PEM CA bundle to trust for HTTPS (instead of the system's roots).
    pub cacert: Option<std::path::PathBuf>,
    /// Do not verify HTTPS certificates at all.
    pub insecure: bool,
    /// Print each request and its answer's status on stderr.
    pub debug: bool,
}

impl Transport {
    /// Plain settings: the system's roots.
    pub fn new(timeout: Duration) -> Self {
        Transport {
            timeout,
            cacert: None,
            insecure: false,
            debug: false,
        }
    }
}

/// The blocking HTTP client every CLI uses, for requests to `url`'s scheme.
///
/// For a plain `http://` endpoint no trust roots are loaded: reading and parsing
/// the system's ~150 certificates was a fifth of a command's CPU, twice per command
/// (login and service). Such a client refuses to follow a redirect to `https://`
/// with a message that says so.
pub(crate) fn http_client(t: &Transport, url: &str) -> Result<reqwest::blocking::Client> {
    let mut b = reqwest::blocking::Client::builder()
        .timeout(t.timeout)
        .connect_timeout(Duration::from_secs(10).min(t.timeout));
    if url.starts_with("http://") && t.cacert.is_none() && !t.insecure {
        b = b
            .tls_certs_only(Vec::<reqwest::Certificate>::new())
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.url().scheme() == "https" {
                    let to = attempt.url().to_string();
                    attempt.error(format!(
                        "the server redirects to {to}: use the https:// URL"
                    ))
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }));
    }
    if let Some(ca) = &t.cacert {
        let pem = std::fs::read(ca)
            .map_err(|e| anyhow!("cannot read the CA certificate {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| anyhow!("invalid CA certificate {}: {e}", ca.display()))?;
        if certs.is_empty() {
            bail!("no certificate in {}", ca.display());
        }
        b = b.tls_certs_only(certs);
    }
    if t.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| anyhow!("cannot build HTTP client: {e}"))
}

/// Why a request did not get an answer, in a few words.
pub(crate) fn why(e: &reqwest::Error) -> String {
    // The innermost cause names TLS problems (an untrusted certificate).
    let mut cause: &dyn std::error::Error = e;
    while let Some(s) = cause.source() {
        cause = s;
    }
    let root = cause.to_string();
    if root.contains("certificate") || root.contains("TLS") || root.contains("tls") {
        return format!(
            "TLS failed: {root} (set OS_CACERT to the CA that signed it, or --insecure)"
        );
    }
    if e.is_connect() {
        "connection refused or host unreachable".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    }
}

/// Prints `cmd`'s completion script for `shell` (`fm completion bash`).
pub fn completion(cmd: &mut clap::Command, shell: clap_complete::Shell) -> Result<()> {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, name, &mut buf);
    out(&String::from_utf8_lossy(&buf))
}

/// Output format of list and show commands (cliff's formatters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table, wrapped to the terminal's width.
    #[default]
    Table,
    /// JSON, with numbers, booleans and null as such.
    Json,
    /// YAML, typed likewise.
    Yaml,
    /// The values alone: a row per line, separated by spaces.
    Value,
    /// Comma-separated, with a header line.
    Csv,
}

/// Output options of a list or show command: `-f/--format` and
/// `-c/--column`, as OpenStack's clients (cliff) spell them.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct Out {
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show only this column (or field); repeat for more.
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

/// [`Out`] for a command whose `-f` or `-c` means something else (`--force`,
/// `--contact`, `--console`): the long forms only.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct OutLong {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show only this column (or field); repeat for more.
    #[arg(long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

impl From<OutLong> for Out {
    fn from(o: OutLong) -> Out {
        Out {
            format: o.format,
            columns: o.columns,
        }
    }
}

impl Out {
    /// Just a format, every column.
    pub fn format(format: Format) -> Out {
        Out {
            format,
            columns: Vec::new(),
        }
    }

    /// Which of `names` to show, in their order: all without `-c`; with it,
    /// those named (cliff's rule: unknown names are passed over, but naming
    /// none that exists is an error listing what does).
    fn pick(&self, names: &[String]) -> Result<Vec<usize>> {
        if self.columns.is_empty() {
            return Ok((0..names.len()).collect());
        }
        let picked: Vec<usize> = (0..names.len())
            .filter(|&i| self.columns.iter().any(|c| *c == names[i]))
            .collect();
        if picked.is_empty() {
            bail!(
                "No recognized column names in {:?}. Recognized columns are {:?}.",
                self.columns,
                names
            );
        }
        Ok(picked)
    }
}

/// A blocking JSON client for one service endpoint.
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
    service: &'static str,
    debug: bool,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:18002`; a trailing `/v1` is
    /// tolerated).
    pub fn new(
        service: &'static str,
        base: &str,
        token: Option<String>,
        transport: &Transport,
    ) -> Result<Client> {
        let mut base = base.trim_end_matches('/').to_string();
        if let Some(b) = base.strip_suffix("/v1") {
            base = b.to_string();
        }
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("invalid {service} URL '{base}': expected http://HOST:PORT");
        }
        let http = http_client(transport, &base)?;
        Ok(Client {
            base,
            token,
            http,
            service,
            debug: transport.debug,
        })
    }

    /// The endpoint this client talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        self.send_with(method, url, body.map(Body::Json), &[])
    }

    fn send_with(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Body<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<Option<Value>> {
        match self.send_text(method, url, body, headers)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| self.not_json(e)),
        }
    }

    fn not_json(&self, e: serde_json::Error) -> anyhow::Error {
        anyhow!(
            "the {} API answered something that is not JSON: {e}",
            self.service
        )
    }

    /// The answer's text (`None` when empty), or the API's error.
    fn send_text(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Body<'_>>,
        headers: &[(&str, &str)],
    ) -> Result<Option<String>> {
        if self.debug {
            eprintln!("{method} {url}");
        }
        let started = std::time::Instant::now();
        let mut req = self
            .http
            .request(method, url)
            .header("Accept", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(t) = &self.token {
            req = req.header("X-Auth-Token", t);
        }
        match body {
            Some(Body::Json(b)) => req = req.json(b),
            Some(Body::Raw {
                content_type,
                bytes,
            }) => req = req.header("Content-Type", content_type).body(bytes),
            None => {}
        }
        let resp = req.send().map_err(|e| {
            anyhow!(
                "cannot reach the {} API at {}: {}",
                self.service,
                self.base,
                why(&e)
            )
        })?;
        let status = resp.status();
        if self.debug {
            eprintln!("  -> {status} in {} ms", started.elapsed().as_millis());
        }
        let text = resp
            .text()
            .map_err(|e| anyhow!("cannot read the {} API's answer: {e}", self.service))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            bail!(
                "{} (log in with the OS_* variables, e.g. source openrc, or pass --os-auth-token)",
                error_text(status, &text)
            );
        }
        if !status.is_success() {
            bail!("{}", error_text(status, &text));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(text))
    }

    fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("http://") || path_and_query.starts_with("https://") {
            path_and_query.to_string()
        } else {
            format!("{}{path_and_query}", self.base)
        }
    }

    /// GET a JSON document (a path, or a full `next` URL).
    pub fn get(&self, path: &str) -> Result<Value> {
        self.send(reqwest::Method::GET, &self.url(path), None)?
            .ok_or_else(|| anyhow!("empty answer from {path}"))
    }

    /// GET one answer, read as `T` (a wire type): an answer of another
    /// shape is an error naming the path.
    pub fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        serde_json::from_value(self.get(path)?)
            .map_err(|e| anyhow!("unexpected answer from {path}: {e}"))
    }

    /// GET every page of a list, following `next` links.
    pub fn get_all(&self, path: &str, key: &str) -> Result<Vec<Value>> {
        self.get_all_as(path, key)
    }

    /// GET every page of a list, following `next` links, each item read as
    /// `T`: a typed item skips the fields it does not name without building
    /// them.
    pub fn get_all_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each_page(path, key, |items| {
            let items: Vec<T> = serde_json::from_str(items)
                .map_err(|e| anyhow!("unexpected answer: '{key}' is not a list of records: {e}"))?;
            out.extend(items);
            Ok(())
        })?;
        Ok(out)
    }

    /// GET every page of a list, following `next` links, handing `f` each
    /// page's `key` list as JSON text: items may be read borrowing from it
    /// (a 1,000-host list read as `HostBrief`s copies no text).
    pub fn each_page(
        &self,
        path: &str,
        key: &str,
        mut f: impl FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        use serde_json::value::RawValue;
        let mut next = Some(self.url(path));
        while let Some(url) = next.take() {
            let Some(text) = self.send_text(reqwest::Method::GET, &url, None, &[])? else {
                bail!("empty answer from {path}");
            };
            let page: std::collections::HashMap<&str, &RawValue> =
                serde_json::from_str(&text).map_err(|e| self.not_json(e))?;
            let Some(items) = page.get(key) else {
                bail!("unexpected answer: no '{key}' list");
            };
            f(items.get())?;
            next = page
                .get("next")
                .and_then(|n| {
                    serde_json::from_str::<Option<String>>(n.get())
                        .ok()
                        .flatten()
                })
                .filter(|n| !n.is_empty())
                .map(|n| self.rebase(&n));
        }
        Ok(())
    }

    /// A `next` link names the server as the server saw itself; keep our own
    /// scheme and host (proxies, port forwards).
    fn rebase(&self, next: &str) -> String {
        match next.find("/v1/") {
            Some(i) => format!("{}{}", self.base, &next[i..]),
            None => next.to_string(),
        }
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> Result<()> {
        self.send(reqwest::Method::DELETE, &self.url(path), None)
            .map(|_| ())
    }

    /// DELETE with extra headers (`X-Subject-Token`).
    pub fn delete_with(&self, path: &str, headers: &[(&str, &str)]) -> Result<()> {
        self.send_with(reqwest::Method::DELETE, &self.url(path), None, headers)
            .map(|_| ())
    }

    /// PUT without a body.
    pub fn put(&self, path: &str) -> Result<()> {
        self.send(reqwest::Method::PUT, &self.url(path), None)
            .map(|_| ())
    }

    /// PATCH with a JSON body.
    pub fn patch(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(reqwest::Method::PATCH, &self.url(path), Some(body))?
            .ok_or_else(|| anyhow!("empty answer from {path}"))
    }

    /// POST with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        self.send(reqwest::Method::POST, &self.url(path), Some(body))
    }

    /// POST a file as StarlingX's clients upload one: a `multipart/form-data`
    /// body with the file in form field `field`.
    pub fn post_file(
        &self,
        path: &str,
        field: &str,
        filename: &str,
        content: &[u8],
    ) -> Result<Option<Value>> {
        let (content_type, bytes) = multipart(field, filename, content);
        self.send_with(
            reqwest::Method::POST,
            &self.url(path),
            Some(Body::Raw {
                content_type: &content_type,
                bytes,
            }),
            &[],
        )
    }
}

/// A request body.
enum Body<'a> {
    Json(&'a Value),
    Raw {
        content_type: &'a str,
        bytes: Vec<u8>,
    },
}

/// A one-part `multipart/form-data` body (RFC 7578) and its Content-Type.
/// The boundary is chosen so that it does not occur in the content.
fn multipart(field: &str, filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    let mut n: u64 = 0x5374_6172_6c69_6e67;
    let boundary = loop {
        let b = format!("starling-{n:016x}");
        let needle = format!("--{b}");
        if !content
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            break b;
        }
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
    };
    let quoted = |s: &str| s.replace(['"', '\r', '\n'], "_");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        quoted(field),
        quoted(filename)
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The message of an error answer: the faultstring of StarlingX's envelope or
/// the message of Keystone's when present, otherwise the status line.
/// An answer read as the wire type `T` (an answer of another shape is an
/// error naming `what`), then as the JSON `T` writes: the columns a CLI
/// prints come from a checked, typed answer.
pub fn as_wire<T: serde::de::DeserializeOwned + serde::Serialize>(
    v: Value,
    what: &str,
) -> Result<Value> {
    let t: T =
        serde_json::from_value(v).map_err(|e| anyhow!("unexpected answer for {what}: {e}"))?;
    Ok(serde_json::to_value(&t)?)
}

pub fn error_text(status: reqwest::StatusCode, body: &str) -> String {
    if let Some(m) = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
    {
        return m;
    }
    let fault = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        let em = v.get("error_message")?;
        let inner: Value = match em {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
            other => other.clone(),
        };
        match inner {
            Value::String(s) => Some(s),
            v => v
                .get("faultstring")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    });
    match fault {
        Some(f) => f,
        None => format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("error")
        ),
    }
}

/// One `-q` term: `field<op>[type::]value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// Field name.
    pub field: String,
    /// eq, ne, ge, le, gt, lt.
    pub op: &'static str,
    /// Type hint (may be empty).
    pub kind: String,
    /// Value.
    pub value: String,
}

/// Parses `a=1;b>=2;c=string::x` (StarlingX's `-q` syntax).
pub fn parse_query(q: &str) -> Result<Vec<QueryTerm>> {
    let mut out = Vec::new();
    for term in q.split(';').map(str::trim).filter(|t| !t.is_empty()) {
        let ops: [(&str, &'static str); 6] = [
            ("!=", "ne"),
            (">=", "ge"),
            ("<=", "le"),
            ("=", "eq"),
            (">", "gt"),
            ("<", "lt"),
        ];
        let Some((pos, sym, op)) = ops
            .iter()
            .filter_map(|(s, o)| term.find(s).map(|p| (p, *s, *o)))
            .min_by_key(|(p, s, _)| (*p, std::cmp::Reverse(s.len())))
        else {
            bail!("invalid query term '{term}': expected field=value");
        };
        let field = term[..pos].trim();
        let rest = term[pos + sym.len()..].trim();
        if field.is_empty() {
            bail!("invalid query term '{term}': missing field name");
        }
        let (kind, value) = match rest.split_once("::") {
            Some((k, v)) if ["string", "integer", "float", "datetime", "boolean"].contains(&k) => {
                (k.to_string(), v.to_string())
            }
            _ => (String::new(), rest.to_string()),
        };
        out.push(QueryTerm {
            field: field.to_string(),
            op,
            kind,
            value,
        });
    }
    Ok(out)
}

/// Appends `q.field/q.op/q.type/q.value` parameters as StarlingX clients do.
pub fn query_string(terms: &[QueryTerm], extra: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for t in terms {
        s.append_pair("q.field", &t.field);
    }
    for t in terms {
        s.append_pair("q.op", t.op);
    }
    for t in terms {
        s.append_pair("q.type", &t.kind);
    }
    for t in terms {
        s.append_pair("q.value", &t.value);
    }
    for (k, v) in extra {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A table of records: column names and typed cells (a number stays a
/// number in JSON and YAML; a table shows `None`, `True` and `False` as
/// StarlingX's clients do).
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(columns: &[&str]) -> Self {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Renders as `out` asks: the columns it names, in its format (json
    /// and yaml: a list of objects keyed by column name).
    pub fn render(&self, out: &Out) -> Result<String> {
        let picked = out.pick(&self.columns)?;
        let columns: Vec<&str> = picked.iter().map(|&i| self.columns[i].as_str()).collect();
        let rows: Vec<Vec<&Value>> = self
            .rows
            .iter()
            .map(|r| {
                picked
                    .iter()
                    .map(|&i| r.get(i).unwrap_or(&Value::Null))
                    .collect()
            })
            .collect();
        Ok(match out.format {
            Format::Table => {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(|v| cell(v)).collect())
                    .collect();
                boxed(&columns, &cells, terminal_width())
            }
            Format::Json | Format::Yaml => {
                let records: Vec<serde_json::Map<String, Value>> = rows
                    .iter()
                    .map(|r| {
                        columns
                            .iter()
                            .map(|c| c.to_string())
                            .zip(r.iter().map(|v| (*v).clone()))
                            .collect()
                    })
                    .collect();
                structured(&records, out.format)?
            }
            Format::Value => rows
                .iter()
                .map(|r| {
                    // cliff prints Python's str: text bare, None, True, False.
                    let line: Vec<String> = r.iter().map(|v| cell(v)).collect();
                    format!("{}\n", line.join(" "))
                })
                .collect(),
            Format::Csv => {
                let mut s = csv_line(columns.iter().map(|c| Value::String(c.to_string())));
                for r in &rows {
                    s.push_str(&csv_line(r.iter().map(|v| (*v).clone())));
                }
                s
            }
        })
    }

    /// Renders one record: vertically (Property | Value) as a table, an
    /// object in json and yaml, one value a line with `value`, and a header
    /// and a row in csv; `-c` picks fields.
    pub fn render_record(fields: &[(&str, Value)], out: &Out) -> Result<String> {
        let names: Vec<String> = fields.iter().map(|(k, _)| k.to_string()).collect();
        let picked = out.pick(&names)?;
        let fields: Vec<&(&str, Value)> = picked.iter().map(|&i| &fields[i]).collect();
        Ok(match out.format {
            Format::Table => {
                let cells: Vec<Vec<String>> = fields
                    .iter()
                    .map(|(k, v)| vec![k.to_string(), cell(v)])
                    .collect();
                boxed(&["Property", "Value"], &cells, terminal_width())
            }
            Format::Json | Format::Yaml => {
                let obj: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                structured(&obj, out.format)?
            }
            Format::Value => fields
                .iter()
                .map(|(_, v)| format!("{}\n", cell(v)))
                .collect(),
            Format::Csv => {
                let mut s = csv_line(fields.iter().map(|(k, _)| Value::String(k.to_string())));
                s.push_str(&csv_line(fields.iter().map(|(_, v)| v.clone())));
                s
            }
        })
    }
}

/// `v` as JSON (pretty, a newline after) or YAML.
fn structured<T: serde::Serialize>(v: &T, format: Format) -> Result<String> {
    Ok(if format == Format::Json {
        format!("{}\n", serde_json::to_string_pretty(v)?)
    } else {
        yaml_serde::to_string(v)?
    })
}

/// One CSV line as cliff writes it (Python's csv, QUOTE_NONNUMERIC): text
/// quoted, a quote doubled; numbers and booleans bare (`True`); null as an
/// empty quoted field.
fn csv_line(cells: impl Iterator<Item = Value>) -> String {
    let cells: Vec<String> = cells
        .map(|v| match v {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => cell(&Value::Bool(b)),
            Value::Null => "\"\"".into(),
            other => format!("\"{}\"", cell(&other).replace('"', "\"\"")),
        })
        .collect();
    format!("{}\n", cells.join(","))
}

/// The width tables are fitted to: the terminal's, when standard output is
/// one; else `COLUMNS` when it is set; else none (a pipe gets whole lines).
pub fn terminal_width() -> Option<usize> {
    if std::io::stdout().is_terminal()
        && let Some(w) = comfy_table::Table::new().width()
    {
        return Some(usize::from(w));
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
}

/// A boxed table (`+---+` rules, `|` between cells) fitted to `width`:
/// when the natural widths do not fit, the widest columns give way and
/// their cells wrap at sensible points (spaces, and after `.` `,` `;` `/`
/// `=`), never inside a word that fits on a line of its own.
fn boxed<S: AsRef<str>>(columns: &[S], rows: &[Vec<String>], width: Option<usize>) -> String {
    let n = columns.len();
    let lines_of = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut natural: Vec<usize> = columns.iter().map(|c| lines_of(c.as_ref())).collect();
    let mut tokens: Vec<usize> = columns.iter().map(|c| longest_token(c.as_ref())).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            natural[i] = natural[i].max(lines_of(c));
            tokens[i] = tokens[i].max(longest_token(c));
        }
    }
    let widths = match width {
        Some(w) => fit(&natural, &tokens, w.saturating_sub(3 * n + 1)),
        None => natural.clone(),
    };
    let wrap_all = |cells: Vec<&str>| -> Vec<Vec<String>> {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| wrap(c, *w))
            .collect()
    };
    let rule = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(w + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let mut out = rule.clone();
    let emit = |cells: Vec<Vec<String>>, out: &mut String| {
        let height = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for line in 0..height {
            out.push('|');
            for (c, w) in cells.iter().zip(&widths) {
                let text = c.get(line).map_or("", String::as_str);
                let pad = w.saturating_sub(text.chars().count());
                out.push(' ');
                out.push_str(text);
                out.push_str(&" ".repeat(pad + 1));
                out.push('|');
            }
            out.push('\n');
        }
    };
    emit(
        wrap_all(columns.iter().map(AsRef::as_ref).collect()),
        &mut out,
    );
    // The header's rule is one run of `=`, as comfy-table's
    // ASCII_FULL_CONDENSED draws it.
    out.push('+');
    out.push_str(&"=".repeat(rule.len().saturating_sub(3)));
    out.push_str("+\n");
    for r in rows {
        emit(wrap_all(r.iter().map(String::as_str).collect()), &mut out);
    }
    out.push_str(&rule);
    out
}

/// Column widths that fit `avail` characters of content. Each column first
/// gets its natural width when that is within a fair share, else what its
/// longest unbreakable piece needs (at most 16, at least 8), so words are
/// not cut; what is left goes, a
/// character at a time, to the column that lacks most. When even that does
/// not fit, every column gets a fair share (a column narrower keeps its
/// width; at least 8 each: a table with too many columns for the terminal
/// overflows rather than becoming unreadable).
fn fit(natural: &[usize], tokens: &[usize], avail: usize) -> Vec<usize> {
    if natural.iter().sum::<usize>() <= avail {
        return natural.to_vec();
    }
    let share = avail / natural.len().max(1);
    let mins: Vec<usize> = natural
        .iter()
        .zip(tokens)
        .map(|(&n, &t)| if n <= share { n } else { n.min(t.clamp(8, 16)) })
        .collect();
    let floor: usize = mins.iter().sum();
    if floor <= avail {
        let mut widths = mins;
        for _ in 0..avail - floor {
            let Some(i) = (0..widths.len())
                .filter(|&i| natural[i] > widths[i])
                .max_by_key(|&i| natural[i] - widths[i])
            else {
                break;
            };
            widths[i] += 1;
        }
        return widths;
    }
    let mut widths = natural.to_vec();
    let mut open: Vec<usize> = (0..natural.len()).collect();
    let mut left = avail;
    loop {
        let share = (left / open.len().max(1)).max(8);
        let (small, big): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&i| natural[i] <= share);
        if small.is_empty() {
            let mut extra = left.saturating_sub(share * big.len());
            for &i in &big {
                widths[i] = share + usize::from(extra > 0);
                extra = extra.saturating_sub(1);
            }
            return widths;
        }
        for &i in &small {
            left = left.saturating_sub(natural[i]);
        }
        open = big;
        if open.is_empty() {
            return widths;
        }
    }
}

/// The longest piece of `text` between the points [`wrap`] breaks at.
fn longest_token(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == ' ' || c == '\n' {
            run = 0;
            continue;
        }
        run += 1;
        longest = longest.max(run);
        if matches!(c, '.' | ',' | ';' | '/' | '=') {
            run = 0;
        }
    }
    longest
}

/// `text` in lines of at most `width` characters, broken at a space (which
/// goes) or after `.` `,` `;` `/` `=` (which stay), and only where no such
/// point fits, inside a word.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest: Vec<char> = line.chars().collect();
        while rest.len() > width {
            let head = &rest[..=width.min(rest.len() - 1)];
            let cut = head
                .iter()
                .rposition(|c| *c == ' ')
                .filter(|&i| i > 0)
                .map(|i| (i, i + 1))
                .or_else(|| {
                    rest[..width]
                        .iter()
                        .rposition(|c| matches!(c, '.' | ',' | ';' | '/' | '='))
                        .map(|i| (i + 1, i + 1))
                })
                .unwrap_or((width, width));
            out.push(rest[..cut.0].iter().collect());
            rest = rest[cut.1..].to_vec();
        }
        out.push(rest.into_iter().collect());
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// A JSON field as it is, `null` when absent (a typed table cell).
pub fn field(v: &Value, key: &str) -> Value {
    v.get(key).cloned().unwrap_or(Value::Null)
}

/// A JSON field as display text (`None` for null/absent, strings unquoted).
pub fn text(v: &Value, key: &str) -> String {
    v.get(key).map_or_else(|| "None".into(), cell)
}

/// A value as a table cell: `None` for null, `True`/`False`, strings bare,
/// a list of strings as StarlingX's Python clients print one
/// (`['a', 'b']`).
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let quoted: Vec<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")))
                .collect();
            format!("[{}]", quoted.join(", "))
        }
        other => other.to_string(),
    }
}

/// Asks for confirmation when `CLI_CONFIRMATIONS=enabled` (StarlingX's switch)
/// and `--yes` was not given. Refuses when there is no terminal to ask.
pub fn confirm(action: &str, yes: bool) -> Result<()> {
    let enabled = std::env::var("CLI_CONFIRMATIONS").is_ok_and(|v| v == "enabled");
    if yes || !enabled {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("{action}: confirmation required; pass --yes");
    }
    out(&format!("{action}: are you sure? [yes/No]: "))?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim().eq_ignore_ascii_case("yes") || answer.trim().eq_ignore_ascii_case("y") {
        Ok(())
    } else {
        bail!("{action}: cancelled")
    }
}

/// Writes `text` to standard output. A reader that went away (as in
/// `system host-list | head -1`) makes this an error that [`finish`] ends on
/// quietly, with status 0.
pub fn out(text: &str) -> Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()?;
    Ok(())
}

/// [`out`] with a newline.
pub fn outln(text: impl std::fmt::Display) -> Result<()> {
    out(&format!("{text}\n"))
}

/// True when `e` is (or was caused by) writing to a pipe nobody reads any more.
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Ends a CLI: status 0 when `r` succeeded or its output's reader went away
/// (nothing more to say to anyone), otherwise the error on one line of
/// standard error and status 1.
pub fn finish(prog: &str, r: Result<()>) -> ! {
    match r {
        Ok(()) => std::process::exit(0),
        Err(e) if is_closed_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("{prog}: {e:#}");
            std::process::exit(1)
        }
    }
}

/// Prints `text`; on a terminal (and unless disabled) one screenful at a time,
/// repeating the header, with StarlingX's prompt.
pub fn page_out(text: &str, header_lines: usize, paging: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let rows = std::env::var("LINES")
        .ok()
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(24);
    if !paging || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        out.write_all(text.as_bytes())?;
        return Ok(());
    }
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines.iter().take(header_lines).copied().collect();
    let body = &lines[header_lines.min(lines.len())..];
    let per_page = rows.saturating_sub(header_lines + 2).max(1);
    for (i, chunk) in body.chunks(per_page).enumerate() {
        if i > 0 {
            write!(out, "Press Enter to continue or 'q' to exit...")?;
            out.flush()?;
            let mut a = String::new();
            std::io::stdin().read_line(&mut a)?;
            if a.trim() == "q" {
                return Ok(());
            }
        }
        for h in &header {
            writeln!(out, "{h}")?;
        }
        for l in chunk {
            writeln!(out, "{l}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_read_as_starlingx_prints_them() {
        assert_eq!(cell(&json!(null)), "None");
        assert_eq!(cell(&json!(true)), "True");
        assert_eq!(cell(&json!("a")), "a");
        assert_eq!(cell(&json!(3)), "3");
        assert_eq!(
            cell(&json!(["10.0.0.2-10.0.0.9", "it's"])),
            "['10.0.0.2-10.0.0.9', 'it\\'s']"
        );
        assert_eq!(cell(&json!([])), "[]");
        assert_eq!(cell(&json!([1, 2])), "[1,2]", "only lists of strings");
    }

    /// A one-connection HTTP server answering every request with `response`.
    fn answer_once(response: &'static str) -> String {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(response.as_bytes());
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn a_plain_http_client_says_when_it_is_sent_to_https() {
        let url = answer_once(
            "HTTP/1.1 302 Found\r\nLocation: https://127.0.0.1:1/v1\r\nContent-Length: 0\r\n\r\n",
        );
        let http = http_client(&Transport::new(Duration::from_secs(5)), &url).unwrap();
        let e = http.get(format!("{url}/v1")).send().unwrap_err();
        let mut text = e.to_string();
        let mut cause: &dyn std::error::Error = &e;
        while let Some(s) = cause.source() {
            text.push_str(&format!(": {s}"));
            cause = s;
        }
        assert!(
            text.contains("redirects to https://127.0.0.1:1/v1: use the https:// URL"),
            "{text}"
        );
        // An https endpoint gets the system's roots (the build loads them).
        assert!(http_client(&Transport::new(Duration::from_secs(5)), "https://x:1").is_ok());
        // And a plain one talks plain HTTP.
        let url = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let r = http_client(&Transport::new(Duration::from_secs(5)), &url)
            .unwrap()
            .get(&url)
            .send()
            .unwrap();
        assert_eq!(r.text().unwrap(), "{}");
    }

    #[test]
    fn parses_starlingx_query_syntax() {
        let q = parse_query("severity=minor;alarm_id=100.114").unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[1].value, "100.114");
        assert_eq!(
            query_string(&q, &[("include_suppress", "True".into())]),
            "q.field=severity&q.field=alarm_id&q.op=eq&q.op=eq&q.type=&q.type=&q.value=minor&q.value=100.114&include_suppress=True"
        );
        let q = parse_query("start>=20160131 10:23:45;end<=string::20171225").unwrap();
        assert_eq!((q[0].op, q[0].value.as_str()), ("ge", "20160131 10:23:45"));
        assert_eq!(
            (q[1].kind.as_str(), q[1].value.as_str()),
            ("string", "20171225")
        );
        assert_eq!(parse_query("a!=b").unwrap()[0].op, "ne");
        assert!(parse_query("novalue").is_err());
        assert!(parse_query("=x").is_err());
    }

    #[test]
    fn error_text_reads_the_envelope() {
        let body = r#"{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Alarm x could not be found.\", \"debuginfo\": null}"}"#;
        assert_eq!(
            error_text(reqwest::StatusCode::NOT_FOUND, body),
            "Alarm x could not be found."
        );
        assert_eq!(
            error_text(reqwest::StatusCode::BAD_GATEWAY, "<html>"),
            "502 Bad Gateway"
        );
    }

    #[test]
    fn tables_render_in_every_format() {
        let mut t = Table::new(&["Alarm ID", "Severity", "Count", "Masked", "Gone"]);
        t.rows.push(vec![
            json!("100.101"),
            json!("major"),
            json!(3),
            json!(true),
            Value::Null,
        ]);
        let table = t.render(&Out::default()).unwrap();
        assert!(
            table.contains("| 100.101  | major    | 3     | True   | None |"),
            "{table}"
        );
        let j: Value =
            serde_json::from_str(&t.render(&Out::format(Format::Json)).unwrap()).unwrap();
        assert_eq!(
            j,
            json!([{"Alarm ID": "100.101", "Severity": "major", "Count": 3, "Masked": true, "Gone": null}])
        );
        let y = t.render(&Out::format(Format::Yaml)).unwrap();
        assert!(
            y.contains("Count: 3") && y.contains("Masked: true") && y.contains("Gone: null"),
            "{y}"
        );
        assert_eq!(
            t.render(&Out::format(Format::Value)).unwrap(),
            "100.101 major 3 True None\n"
        );
        assert_eq!(
            t.render(&Out::format(Format::Csv)).unwrap(),
            "\"Alarm ID\",\"Severity\",\"Count\",\"Masked\",\"Gone\"\n\"100.101\",\"major\",3,True,\"\"\n"
        );
        // -c picks columns, in the table's order; none known is an error.
        let picked = Out {
            format: Format::Value,
            columns: vec!["Count".into(), "Alarm ID".into(), "nope".into()],
        };
        assert_eq!(t.render(&picked).unwrap(), "100.101 3\n");
        let none = Out {
            format: Format::Table,
            columns: vec!["nope".into()],
        };
        let e = t.render(&none).unwrap_err().to_string();
        assert!(
            e.starts_with("No recognized column names in [\"nope\"]"),
            "{e}"
        );
        let rec = [
            ("uuid", json!("u")),
            ("size", json!(1.5)),
            ("peers", Value::Null),
        ];
        let j: Value =
            serde_json::from_str(&Table::render_record(&rec, &Out::format(Format::Json)).unwrap())
                .unwrap();
        assert_eq!(j, json!({"uuid": "u", "size": 1.5, "peers": null}));
        assert_eq!(
            Table::render_record(
                &rec,
                &Out {
                    format: Format::Value,
                    columns: vec!["size".into()]
                }
            )
            .unwrap(),
            "1.5\n"
        );
    }

    /// Without a width the boxed table is comfy-table's ASCII_FULL_CONDENSED
    /// (what the CLIs printed before), rows, multi-line cells and no rows.
    #[test]
    fn the_boxed_table_is_what_it_always_was() {
        let cases: Vec<(Vec<&str>, Vec<Vec<String>>)> = vec![
            (vec!["a", "bb"], vec![vec!["x".into(), "long value".into()]]),
            (
                vec!["Property", "Value"],
                vec![
                    vec!["uuid".into(), "01a2-b".into()],
                    vec!["text".into(), "two\nlines".into()],
                ],
            ),
            (vec!["id", "hostname"], vec![]),
        ];
        for (cols, rows) in cases {
            let mut c = comfy_table::Table::new();
            c.load_style(comfy_table::presets::ASCII_FULL_CONDENSED)
                .set_header(&cols);
            for r in &rows {
                c.add_row(r);
            }
            assert_eq!(boxed(&cols, &rows, None), format!("{c}\n"), "{cols:?}");
        }
    }

    /// A table wider than the terminal wraps its widest columns at sensible
    /// points: an entity id after `.` or `=`, text at spaces, never
    /// `host=controller-0` in the middle of a word.
    #[test]
    fn wide_tables_fit_the_width_and_wrap_at_sensible_points() {
        // fm alarm-list's columns on an 80-column terminal.
        let cols = [
            "Alarm ID",
            "Reason Text",
            "Entity ID",
            "Severity",
            "Time Stamp",
        ];
        let row: Vec<String> = vec![
            "200.001".into(),
            "controller-0 was administratively locked to take it out-of-service.".into(),
            "host=controller-0.port=enp0s3".into(),
            "warning".into(),
            "2026-12-06T19:10:03.123456".into(),
        ];
        let out = boxed(&cols, &[row], Some(80));
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "{line:?} in\n{out}");
        }
        // The entity id breaks after `=` and `.`, never inside a name.
        assert!(
            out.contains("| host= ") && out.contains("| controller-0. "),
            "{out}"
        );
        assert!(out.contains("| port=enp0s3 "), "{out}");
        assert!(out.contains("| administratively "), "{out}");
        assert!(out.contains("| 200.001  |"), "{out}");
        assert_eq!(
            wrap("host=controller-0.port=eth0", 20),
            vec!["host=controller-0.", "port=eth0"]
        );
        assert_eq!(wrap("host=controller-0", 12), vec!["host=", "controller-0"]);
        assert_eq!(wrap("out of service", 7), vec!["out of", "service"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(fit(&[10, 50, 60], &[5, 9, 12], 60), vec![10, 20, 30]);
        assert_eq!(fit(&[10, 20], &[10, 20], 60), vec![10, 20]);
        // Too many columns for their words: fair shares.
        assert_eq!(fit(&[40, 40, 40], &[30, 30, 30], 30), vec![10, 10, 10]);
        assert_eq!(longest_token("host=controller-0.port=eth0"), 13);
    }
}
