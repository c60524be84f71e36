//! Base URLs of mirrors and API servers, and RFC 6570 expansion of the index's templates.

use crate::{Error, Result};
use std::path::PathBuf;

/// Where a mirror or API server lives: `https://host/path/`, `file:///folder/`, or plain
/// `http://` on a loopback host (127.0.0.0/8, `[::1]`, `localhost`), for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// Without a trailing `/`.
    text: String,
    file: bool,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Result<BaseUrl> {
        let bad = |reason: &str| Error::BaseUrl { url: url.to_owned(), reason: reason.to_owned() };
        let text = url.trim_end_matches('/').to_owned();
        if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("a base URL has no query, fragment or spaces"));
        }
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad("a file URL needs an absolute path (file:///folder)"));
            }
            return Ok(BaseUrl { text, file: true });
        }
        let (rest, https) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (rest, true),
            (_, Some(rest)) => (rest, false),
            _ => return Err(bad("the scheme must be https://, file:// or http:// on loopback")),
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("the URL needs a host and no user name"));
        }
        if !https && !is_loopback(authority) {
            return Err(bad("plain http:// is allowed only on a loopback host; use https://"));
        }
        Ok(BaseUrl { text, file: false })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_file(&self) -> bool {
        self.file
    }

    /// `path` (which starts with `/`, as the index's templates do) appended to the base.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.text, path.trim_start_matches('/'))
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The local path of a `file://` URL, percent-decoded.
pub(crate) fn file_path(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("file://")?;
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

/// Expands an RFC 6570 template at level 1 (`{var}`, percent-encoding everything but unreserved
/// characters) and the level 2 reserved form (`{+var}`, which keeps reserved characters such as
/// `/`). A comma list (`{a,b}`) joins the values with `,`. A variable without a value is an error
/// here (the RFC omits it), since a PGXN path with a hole is never what the caller meant.
pub fn expand(template: &str, vars: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("an expression is not closed with `}`")?;
        let expr = &after[..close];
        let (reserved, names) = match expr.chars().next() {
            Some('+') => (true, &expr[1..]),
            Some(c) if "#./;?&=,!@|".contains(c) => {
                return Err(format!("operator `{c}` is not supported (only {{var}} and {{+var}})"));
            }
            _ => (false, expr),
        };
        let mut values = Vec::new();
        for name in names.split(',') {
            if name.is_empty() || name.contains([':', '*']) {
                return Err(format!("unsupported variable `{name}`"));
            }
            let value = vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("no value for `{name}`"))?;
            values.push(encode(value, reserved));
        }
        out.push_str(&values.join(","));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("a `}` without `{`".into());
    }
    out.push_str(rest);
    Ok(out)
}

fn encode(value: &str, reserved: bool) -> String {
    let mut out = String::with_capacity(value.len());
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let keep = unreserved
            || (reserved
                && (b":/?#[]@!$&'()*+,;=".contains(&b)
                    || (b == b'%'
                        && bytes
                            .get(i + 1..i + 3)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)))));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            BaseUrl::parse("https://api.pgxn.org/").unwrap().join("/dist/x.json"),
            "https://api.pgxn.org/dist/x.json"
        );
        assert_eq!(
            BaseUrl::parse("https://h/pgxn").unwrap().join("/index.json"),
            "https://h/pgxn/index.json"
        );
        assert!(BaseUrl::parse("file:///srv/mirror/").unwrap().is_file());
        for ok in
            ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]:9/", "http://127.1.2.3"]
        {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.org/",
            "ftp://x/",
            "file://relative",
            "https://",
            "https://u@h/",
            "https://h/?q",
            "http://127.0.0.1.evil.org/",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        let err = BaseUrl::parse("http://mirror.example/").unwrap_err().to_string();
        assert!(err.contains("http://mirror.example/") && err.contains("loopback"), "{err}");
    }

    #[test]
    fn expansion() {
        let t = "/dist/{dist}/{version}/{dist}-{version}.zip";
        assert_eq!(
            expand(t, &[("dist", "pgtap"), ("version", "1.3.3")]).unwrap(),
            "/dist/pgtap/1.3.3/pgtap-1.3.3.zip"
        );
        assert_eq!(expand("/x/{a}", &[("a", "a b/c%d+é")]).unwrap(), "/x/a%20b%2Fc%25d%2B%C3%A9");
        assert_eq!(expand("/x/{+a}", &[("a", "a/b c%2F")]).unwrap(), "/x/a/b%20c%2F");
        assert_eq!(expand("/{a,b}", &[("a", "1"), ("b", "2")]).unwrap(), "/1,2");
        assert!(expand("/{a}", &[]).unwrap_err().contains("no value for `a`"));
        assert!(expand("/{?a}", &[("a", "1")]).unwrap_err().contains("operator `?`"));
        assert!(expand("/{a", &[("a", "1")]).is_err());
        assert!(expand("/a}", &[]).is_err());
    }

    #[test]
    fn file_paths_are_decoded() {
        assert_eq!(
            file_path("file:///m/dist/a%20b.json").unwrap(),
            PathBuf::from("/m/dist/a b.json")
        );
    }
}
