//! A notification receiver on 127.0.0.1, written for the tests: it plays
//! a webhook endpoint or an ntfy server (both are plain HTTP POSTs),
//! records every request with its headers and body, and answers with the
//! status it is told (503 plays a receiver that is down).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One request as received, with the status it was answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The idempotency keys of the JSON Feed items it carried.
    pub fn item_keys(&self) -> Vec<String> {
        self.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                i["_tributary"]["notify"]["key"]
                    .as_str()
                    .expect("key")
                    .to_string()
            })
            .collect()
    }

    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Receiver {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    status: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, st, sp) = (
            Arc::clone(&requests),
            Arc::clone(&status),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (r, st) = (Arc::clone(&r), Arc::clone(&st));
                std::thread::spawn(move || serve(conn, &r, &st));
            }
        });
        Receiver {
            addr,
            requests,
            status,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status every later request is answered with.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(Request::accepted)
            .collect()
    }

    /// Keys of the items of accepted requests, in order, repeats included.
    pub fn accepted_keys(&self) -> Vec<String> {
        self.accepted()
            .iter()
            .flat_map(Request::item_keys)
            .collect()
    }

    /// What an idempotent receiver keeps: each key once.
    pub fn distinct_keys(&self) -> HashSet<String> {
        self.accepted_keys().into_iter().collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, requests: &Mutex<Vec<Request>>, status: &AtomicU16) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let code = status.load(Ordering::SeqCst);
    requests.lock().unwrap().push(Request {
        path,
        headers,
        body,
        status: code,
    });
    let reason = if code < 300 { "OK" } else { "Unavailable" };
    let answer =
        format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    let mut conn = conn;
    let _ = conn.write_all(answer.as_bytes());
}
