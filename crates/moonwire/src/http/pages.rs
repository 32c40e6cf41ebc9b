//! nginx's built-in error and redirect pages.

/// The body nginx sends for `status` (None: no special page, e.g. 2xx).
pub fn page(status: u16, server_tokens: bool) -> Option<Vec<u8>> {
    let title = match status {
        // nginx's 302 page says "Found" though its status line says "Moved Temporarily"
        302 => "302 Found".to_string(),
        301 | 303 | 307 | 308 | 400..=599 => match super::reason(status) {
            Some(r) => format!("{status} {r}"),
            None => return None,
        },
        _ => return None,
    };
    let mut out = Vec::with_capacity(200);
    out.extend_from_slice(b"<html>\r\n<head><title>");
    out.extend_from_slice(title.as_bytes());
    out.extend_from_slice(b"</title></head>\r\n<body>\r\n<center><h1>");
    out.extend_from_slice(title.as_bytes());
    out.extend_from_slice(b"</h1></center>\r\n");
    out.extend_from_slice(b"<hr><center>");
    out.extend_from_slice(server_tokens_str(server_tokens).as_bytes());
    out.extend_from_slice(b"</center>\r\n</body>\r\n</html>\r\n");
    Some(out)
}

/// What `Server:` and page footers say.
pub fn server_tokens_str(full: bool) -> &'static str {
    if full {
        concat!("moonwire/", env!("CARGO_PKG_VERSION"))
    } else {
        "moonwire"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn not_found_page() {
        let p = String::from_utf8(super::page(404, false).unwrap()).unwrap();
        assert_eq!(
            p,
            "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>moonwire</center>\r\n</body>\r\n</html>\r\n"
        );
        assert!(super::page(200, true).is_none());
    }
}
