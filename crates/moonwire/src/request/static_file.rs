//! Static files from `root`/`alias`, with `index`, Last-Modified, ETag, 304
//! and HEAD, as nginx's static and index modules answer.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::output::{self, Resp};
use super::vars;
use super::Req;
use crate::log::Level;

fn content_type(req: &Req, path: &std::path::Path) -> Vec<u8> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.and_then(|e| req.loc.types.get(&e).cloned()) {
        Some(t) => t.into_bytes(),
        None => req.loc.default_type.as_bytes().to_vec(),
    }
}

/// The file system path for the request URI.
fn map_path(req: &Req, uri: &[u8]) -> PathBuf {
    let mut p = match (&req.loc.alias, &req.alias_prefix) {
        (Some(alias), Some(prefix)) => {
            let mut base = vars::eval(req, alias);
            let rest = uri.strip_prefix(prefix.as_bytes()).unwrap_or(uri);
            base.extend_from_slice(rest);
            base
        }
        _ => {
            let mut base = vars::document_root(req);
            base.extend_from_slice(uri);
            base
        }
    };
    while p.len() > 1 && p.ends_with(b"//") {
        p.pop();
    }
    PathBuf::from(String::from_utf8_lossy(&p).into_owned())
}

fn os_err(e: &std::io::Error) -> String {
    format!(
        "({}: {})",
        e.raw_os_error().unwrap_or(0),
        crate::log::strerror(e)
    )
}

pub async fn serve(req: &Req) {
    let method = req.head.method();
    if method != b"GET" && method != b"HEAD" && method != b"POST" {
        let mut resp = req.resp.borrow_mut();
        output::special_response(req, &mut resp, 405);
        return;
    }
    let uri = req.uri.borrow().clone();
    let mut path = map_path(req, &uri);
    if uri.ends_with(b"/") {
        let mut found = None;
        for idx in req.loc.index.iter() {
            let cand = path.join(idx);
            if tokio::fs::metadata(&cand)
                .await
                .map(|m| m.is_file())
                .unwrap_or(false)
            {
                found = Some(cand);
                break;
            }
        }
        match found {
            Some(f) => path = f,
            None => {
                let is_dir = tokio::fs::metadata(&path)
                    .await
                    .map(|m| m.is_dir())
                    .unwrap_or(false);
                let mut resp = req.resp.borrow_mut();
                if is_dir {
                    req.log(
                        Level::Error,
                        &format!("directory index of \"{}\" is forbidden", path.display()),
                    );
                    output::special_response(req, &mut resp, 403);
                } else {
                    req.log(
                        Level::Error,
                        &format!(
                            "\"{}index.html\" is not found {}",
                            path.display(),
                            "(2: No such file or directory)"
                        ),
                    );
                    output::special_response(req, &mut resp, 404);
                }
                return;
            }
        }
    }
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(e) => {
            let status = match e.kind() {
                std::io::ErrorKind::PermissionDenied => 403,
                _ => 404,
            };
            req.log(
                Level::Error,
                &format!("open() \"{}\" failed {}", path.display(), os_err(&e)),
            );
            let mut resp = req.resp.borrow_mut();
            output::special_response(req, &mut resp, status);
            return;
        }
    };
    if meta.is_dir() {
        // nginx redirects `/dir` to `/dir/` with an absolute URL
        let mut path = req.uri.borrow().to_vec();
        path.push(b'/');
        if let Some(a) = req.args.borrow().as_ref() {
            path.push(b'?');
            path.extend_from_slice(a);
        }
        let loc = super::phases::absolute_url(req, &path);
        let mut resp = req.resp.borrow_mut();
        resp.headers.push(("Location".into(), loc));
        output::special_response(req, &mut resp, 301);
        return;
    }
    if method == b"POST" {
        let mut resp = req.resp.borrow_mut();
        output::special_response(req, &mut resp, 405);
        return;
    }
    let mtime = meta.mtime();
    let size = meta.size();
    let not_modified = req
        .head
        .header("if-modified-since")
        .and_then(ngx_util::parse_http_time)
        .is_some_and(|t| {
            if req.loc.if_modified_since_exact {
                t == mtime
            } else {
                t >= mtime
            }
        });
    let body = if not_modified || req.is_head() {
        Vec::new()
    } else {
        match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                req.log(
                    Level::Error,
                    &format!("open() \"{}\" failed {}", path.display(), os_err(&e)),
                );
                let mut resp = req.resp.borrow_mut();
                output::special_response(req, &mut resp, 403);
                return;
            }
        }
    };
    let mut resp = req.resp.borrow_mut();
    let resp: &mut Resp = &mut resp;
    resp.last_modified = Some(mtime);
    if req.loc.etag {
        resp.headers.push((
            "ETag".into(),
            format!("\"{mtime:x}-{size:x}\"").into_bytes(),
        ));
    }
    if not_modified {
        resp.status = 304;
        output::respond(req, resp, b"");
        return;
    }
    resp.status = 200;
    resp.content_type = Some(content_type(req, &path));
    resp.content_length = Some(size);
    resp.headers
        .push(("Accept-Ranges".into(), b"bytes".to_vec()));
    output::respond(req, resp, &body);
}
