//! A misbehaving HTTP server on 127.0.0.1, written on raw sockets for what
//! a well-behaved framework cannot do: accept and never answer, reset in
//! the middle of a body, drip, lie about the length, send headers forever,
//! and serve decompression bombs. One thread per connection; every
//! connection ends when the client goes away or the server is dropped.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does for one path.
#[derive(Clone)]
pub enum Act {
    /// Reads the request, then never writes a byte.
    Never,
    /// Declares `declared` bytes, sends `sent`, then resets the connection.
    Reset { declared: usize, sent: Vec<u8> },
    /// Declares a large body and sends one byte every `every`.
    Drip { every: Duration },
    /// Declares `declared` bytes but sends `body` and closes.
    Lying { declared: usize, body: Vec<u8> },
    /// `Content-Encoding: encoding` over these (compressed) bytes.
    Encoded {
        encoding: &'static str,
        body: Arc<Vec<u8>>,
    },
    /// A chunked body of `total` bytes of an endless feed.
    Chunked { total: usize },
    /// A status line, then header lines without end.
    EndlessHeaders,
    /// 429 with `Retry-After` as an HTTP-date `secs` ahead.
    TooManyUntil { secs: i64 },
    /// A careless server echoing the credentials it was sent: a redirect
    /// to this same path with them in the query (a loop, so the client's
    /// error names the URL), and the request head in the body.
    Echo,
}

/// The server; stops accepting when dropped.
pub struct Rogue {
    pub addr: SocketAddr,
    acts: Arc<Mutex<HashMap<String, Act>>>,
    hits: Arc<Mutex<Vec<(std::time::Instant, String)>>>,
    stop: Arc<AtomicBool>,
}

impl Rogue {
    pub fn start() -> Rogue {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let acts: Arc<Mutex<HashMap<String, Act>>> = Arc::default();
        let hits: Arc<Mutex<Vec<(std::time::Instant, String)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (a, h, st) = (Arc::clone(&acts), Arc::clone(&hits), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (a, h, st) = (Arc::clone(&a), Arc::clone(&h), Arc::clone(&st));
                        std::thread::spawn(move || serve(stream, &a, &h, &st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Rogue {
            addr,
            acts,
            hits,
            stop,
        }
    }

    pub fn set(&self, path: &str, act: Act) {
        self.acts.lock().unwrap().insert(path.into(), act);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self, path: &str) -> Vec<std::time::Instant> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .filter(|(_, p)| p == path)
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request head; returns its path (absolute-form targets, as
/// sent to a proxy, reduced to the path) and the head.
fn read_head(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split_whitespace().nth(1)?;
    let path = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    Some((path.to_string(), head))
}

const FEED_HEAD: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>R</title>";

fn serve(
    mut stream: TcpStream,
    acts: &Mutex<HashMap<String, Act>>,
    hits: &Mutex<Vec<(std::time::Instant, String)>>,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).unwrap();
    let Some((path, request)) = read_head(&mut stream) else {
        return;
    };
    let bare = path.split('?').next().unwrap_or("").to_string();
    hits.lock()
        .unwrap()
        .push((std::time::Instant::now(), bare.clone()));
    let act = acts.lock().unwrap().get(&bare).cloned();
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match act {
        None => stream.write_all(head("404 Not Found", "Content-Length: 0\r\n").as_bytes()),
        Some(Act::Never) => {
            // Hold the connection until the client gives up.
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 64];
            while !stop.load(Ordering::Relaxed) {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => break,
                }
            }
            Ok(())
        }
        Some(Act::Reset { declared, sent }) => {
            let _ = stream
                .write_all(head("200 OK", &format!("Content-Length: {declared}\r\n")).as_bytes());
            let _ = stream.write_all(&sent);
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(50));
            // Linger zero: close sends RST instead of FIN.
            let _ = socket_linger_zero(&stream);
            Ok(())
        }
        Some(Act::Drip { every }) => {
            let _ = stream.write_all(head("200 OK", "Content-Length: 1000000\r\n").as_bytes());
            let mut r = Ok(());
            for b in FEED_HEAD.bytes().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                r = stream.write_all(&[b]);
                if r.is_err() {
                    break;
                }
                std::thread::sleep(every);
            }
            r
        }
        Some(Act::Lying { declared, body }) => stream
            .write_all(head("200 OK", &format!("Content-Length: {declared}\r\n")).as_bytes())
            .and_then(|()| stream.write_all(&body)),
        Some(Act::Encoded { encoding, body }) => stream
            .write_all(
                head(
                    "200 OK",
                    &format!(
                        "Content-Encoding: {encoding}\r\nContent-Length: {}\r\n",
                        body.len()
                    ),
                )
                .as_bytes(),
            )
            .and_then(|()| stream.write_all(&body)),
        Some(Act::Chunked { total }) => {
            let mut r =
                stream.write_all(head("200 OK", "Transfer-Encoding: chunked\r\n").as_bytes());
            let item = "<item><title>padding</title><description>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</description></item>";
            let chunk = format!("{FEED_HEAD}{}", item.repeat(64 * 1024 / item.len()));
            let mut sent = 0;
            while r.is_ok() && sent < total && !stop.load(Ordering::Relaxed) {
                r = stream.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
                sent += chunk.len();
            }
            r.and_then(|()| stream.write_all(b"0\r\n\r\n"))
        }
        Some(Act::EndlessHeaders) => {
            let mut r = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            let mut n = 0u32;
            while r.is_ok() && n < 1_000_000 && !stop.load(Ordering::Relaxed) {
                r = stream.write_all(format!("X-Filler-{n}: {}\r\n", "y".repeat(64)).as_bytes());
                n += 1;
            }
            r
        }
        Some(Act::Echo) => {
            let seen: Vec<&str> = request
                .lines()
                .filter_map(|l| l.split_once(':'))
                .filter(|(k, _)| {
                    matches!(
                        k.to_ascii_lowercase().as_str(),
                        "authorization" | "proxy-authorization" | "x-api-key"
                    )
                })
                .map(|(_, v)| v.trim())
                .collect();
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("seen", &seen.join(" "))
                .finish();
            let body = format!("You sent:\n{request}");
            let extra = format!(
                "Location: {bare}?{query}\r\nX-Echo: {}\r\nContent-Length: {}\r\n",
                seen.join(" "),
                body.len()
            );
            stream
                .write_all(head("302 Found", &extra).as_bytes())
                .and_then(|()| stream.write_all(body.as_bytes()))
        }
        Some(Act::TooManyUntil { secs }) => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
            let date = at.format("%a, %d %b %Y %H:%M:%S GMT");
            stream.write_all(
                head(
                    "429 Too Many Requests",
                    &format!("Retry-After: {date}\r\nContent-Length: 0\r\n"),
                )
                .as_bytes(),
            )
        }
    };
}

/// `SO_LINGER` with a zero timeout, through the C library (std has no
/// stable setter yet).
fn socket_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        l_onoff: i32,
        l_linger: i32,
    }
    extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    let l = Linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a pointer to a live struct of
    // the size passed.
    let rc = unsafe {
        setsockopt(
            stream.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            &l,
            std::mem::size_of::<Linger>() as u32,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A gzip stream that inflates to `gib` GiB of zeros from about 1 KB per
/// MiB (deflate's best ratio, about 1:1000): one MiB compressed with a
/// full flush (no back-reference crosses its end, and it ends on a byte)
/// is repeated, then closed. The trailer's checksum is not computed: the
/// client must stop at its cap long before.
pub fn gzip_bomb(gib: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_blocks(gib));
    out.extend_from_slice(&[0u8; 4]); // CRC-32 (not computed)
    out.extend_from_slice(&((gib as u32) << 30).to_le_bytes()); // ISIZE mod 2^32
    out
}

/// The same as a zlib stream (`Content-Encoding: deflate`).
pub fn deflate_bomb(gib: usize) -> Vec<u8> {
    let mut out = vec![0x78, 0xda];
    out.extend(deflate_blocks(gib));
    out.extend_from_slice(&[0u8; 4]); // Adler-32 (not computed)
    out
}

fn deflate_blocks(gib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(4096);
    c.compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    let mut out = Vec::with_capacity(block.len() * gib * 1024 + 2);
    for _ in 0..gib * 1024 {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0x03, 0x00]); // a final, empty fixed block
    out
}

/// A brotli stream that inflates to `gib` GiB of zeros from 13 bytes per
/// MiB: the encoder's output for one flushed MiB of zeros, after the
/// first, is the same every time (byte-aligned, same state), so it is
/// repeated.
pub fn brotli_bomb(gib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut w = brotli::CompressorWriter::new(Vec::new(), 1 << 16, 5, 24);
    let mut marks = Vec::new();
    for _ in 0..2 {
        w.write_all(&zeros).unwrap();
        w.flush().unwrap();
        marks.push(w.get_ref().len());
    }
    let all = w.into_inner();
    let (first, repeat, tail) = (&all[..marks[0]], &all[marks[0]..marks[1]], &all[marks[1]..]);
    let mut out = first.to_vec();
    for _ in 1..gib * 1024 {
        out.extend_from_slice(repeat);
    }
    out.extend_from_slice(tail);
    out
}
