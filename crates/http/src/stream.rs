//! Response bodies written in chunks by another thread while they are sent.
//!
//! A long list is serialised on a store thread as its rows are read. Held
//! whole, its bytes reach the socket only after the last row; sent in chunks,
//! the network write (and the client's read) run beside the serialisation,
//! and the body is never held whole in memory.
//!
//! The HTTP status must be known before the first byte is sent, so a writer
//! reports whether the body it produced is complete ([`ChunkSender::finish`]);
//! [`ChunkBody::first`] waits for the first chunk and says whether the body
//! fits in it (answer it with a `Content-Length`), continues (stream it), or
//! was abandoned before anything was sent (answer the writer's error instead).
//! A writer that fails or is dropped after sending a chunk aborts the
//! response: the client sees a broken transfer, never a short body that ends
//! cleanly.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A chunk is sent once the writer has buffered this many bytes.
pub const CHUNK_BYTES: usize = 64 * 1024;

enum Item {
    /// Part of the body; more follows.
    More(Bytes),
    /// The rest of the body: it is complete.
    Last(Bytes),
    /// The body cannot be completed.
    Abort,
}

/// The writing end: bytes go into [`ChunkSender::buf`], and a full buffer is
/// sent by [`ChunkSender::flush_full`]. The channel is unbounded, so a slow
/// client never blocks the writer's thread (and the store transaction it
/// holds): at worst the body is buffered whole, as it would be unstreamed.
#[derive(Debug)]
pub struct ChunkSender {
    tx: UnboundedSender<Item>,
    buf: Vec<u8>,
    sent: bool,
    done: bool,
}

impl ChunkSender {
    /// The buffer to write the body into.
    pub fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Sends the buffer as a chunk once it holds [`CHUNK_BYTES`].
    pub fn flush_full(&mut self) {
        if self.buf.len() >= CHUNK_BYTES && !self.done {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES * 9 / 8));
            // A receiver that has gone (client disconnected) needs nothing more.
            let _ = self.tx.send(Item::More(Bytes::from(chunk)));
            self.sent = true;
        }
    }

    /// True once a chunk has left: the response's status is fixed, and the
    /// work that produced it must not be run again (its bytes would repeat).
    pub fn sent(&self) -> bool {
        self.sent
    }

    /// Drops what a failed attempt buffered but never sent, so the work can
    /// run again from the start. Does nothing once a chunk has been sent.
    pub fn restart(&mut self) {
        if !self.sent {
            self.buf.clear();
        }
    }

    /// Sends the rest of the buffer: the body is complete.
    pub fn finish(&mut self) {
        if !self.done {
            self.done = true;
            let rest = std::mem::take(&mut self.buf);
            let _ = self.tx.send(Item::Last(Bytes::from(rest)));
        }
    }

    /// The body cannot be completed: the response is broken off (or, when
    /// nothing has been sent, the caller answers the error instead).
    pub fn abort(&mut self) {
        if !self.done {
            self.done = true;
            self.buf = Vec::new();
            let _ = self.tx.send(Item::Abort);
        }
    }
}

impl Drop for ChunkSender {
    fn drop(&mut self) {
        // Whatever ended the writer without `finish` (an error, a panic), the
        // body is incomplete and must not end as if it were whole.
        self.abort();
    }
}

/// The reading end, an HTTP body.
#[derive(Debug)]
pub struct ChunkBody {
    rx: UnboundedReceiver<Item>,
    /// The first chunk, read by [`ChunkBody::first`] and not yet sent.
    head: Option<Bytes>,
    ended: bool,
}

/// What the first chunk of a body says about the whole.
#[derive(Debug)]
pub enum First {
    /// The body is complete in these bytes.
    Whole(Bytes),
    /// More follows: stream the body.
    Streaming(ChunkBody),
    /// The writer gave up before sending anything.
    Abandoned,
}

impl ChunkBody {
    /// Waits for the first chunk.
    pub async fn first(mut self) -> First {
        match self.rx.recv().await {
            Some(Item::Last(b)) => First::Whole(b),
            Some(Item::More(b)) => {
                self.head = Some(b);
                First::Streaming(self)
            }
            Some(Item::Abort) | None => First::Abandoned,
        }
    }
}

/// A new body and its writer.
pub fn chunked() -> (ChunkSender, ChunkBody) {
    let (tx, rx) = unbounded_channel();
    (
        ChunkSender {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES * 9 / 8),
            sent: false,
            done: false,
        },
        ChunkBody {
            rx,
            head: None,
            ended: false,
        },
    )
}

impl Body for ChunkBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(b) = self.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Item::More(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
            Poll::Ready(Some(Item::Last(b))) => {
                self.ended = true;
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            Poll::Ready(Some(Item::Abort) | None) => {
                self.ended = true;
                Poll::Ready(Some(Err(io::Error::other(
                    "the response could not be completed",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.head.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body_util::BodyExt;

    fn write(s: &mut ChunkSender, n: usize) {
        for _ in 0..n {
            s.buf().push(b'x');
            s.flush_full();
        }
    }

    #[tokio::test]
    async fn a_body_that_fits_one_chunk_is_whole() {
        let (mut s, b) = chunked();
        write(&mut s, 10);
        s.finish();
        drop(s);
        match b.first().await {
            First::Whole(bytes) => assert_eq!(bytes.len(), 10),
            other => panic!("expected a whole body, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_long_body_streams_every_byte_in_order() {
        let (mut s, b) = chunked();
        let n = CHUNK_BYTES * 3 + 17;
        let writer = std::thread::spawn(move || {
            for i in 0..n {
                s.buf().push((i % 251) as u8);
                s.flush_full();
            }
            s.finish();
        });
        let First::Streaming(body) = b.first().await else {
            panic!("expected a streamed body");
        };
        let got = body.collect().await.unwrap().to_bytes();
        writer.join().unwrap();
        assert_eq!(got.len(), n);
        assert!(got.iter().enumerate().all(|(i, &v)| v == (i % 251) as u8));
    }

    #[tokio::test]
    async fn a_writer_that_fails_before_sending_is_abandoned_and_may_start_again() {
        let (mut s, b) = chunked();
        write(&mut s, 100);
        assert!(!s.sent());
        s.restart();
        assert!(s.buf().is_empty(), "a retry starts from an empty buffer");
        drop(s);
        assert!(matches!(b.first().await, First::Abandoned));
    }

    #[tokio::test]
    async fn a_writer_dropped_after_sending_breaks_the_body_off() {
        let (mut s, b) = chunked();
        write(&mut s, CHUNK_BYTES + 5);
        assert!(s.sent());
        s.restart();
        assert_eq!(s.buf().len(), 5, "sent bytes cannot be taken back");
        drop(s); // as an error or a panic would
        let First::Streaming(body) = b.first().await else {
            panic!("expected a streamed body");
        };
        assert!(
            body.collect().await.is_err(),
            "a broken-off body must not end cleanly"
        );
    }
}
