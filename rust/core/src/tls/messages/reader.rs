//! A bounds-checked cursor whose errors carry the Python engine's exact messages.

use super::ParseError;

/// Cursor over `buf[pos..end]`; every read past `end` is a [`ParseError`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    pub end: usize,
}

pub(crate) type R<T> = Result<T, ParseError>;

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            end: buf.len(),
        }
    }

    pub fn span(buf: &'a [u8], pos: usize, end: usize) -> Self {
        Reader {
            buf,
            pos,
            end: end.min(buf.len()),
        }
    }

    pub fn left(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    fn need(&self, n: usize, what: &dyn Fn() -> String) -> R<()> {
        if n > self.left() {
            return Err(ParseError::new(
                format!(
                    "truncated {}: need {} bytes, {} left",
                    what(),
                    n,
                    self.left()
                ),
                self.pos,
            ));
        }
        Ok(())
    }

    fn uint(&mut self, n: usize, what: &dyn Fn() -> String) -> R<u32> {
        self.need(n, what)?;
        let v = self.buf[self.pos..self.pos + n]
            .iter()
            .fold(0u32, |a, &b| (a << 8) | u32::from(b));
        self.pos += n;
        Ok(v)
    }

    pub fn u8(&mut self, what: &str) -> R<u8> {
        Ok(self.uint(1, &|| what.to_owned())? as u8)
    }

    pub fn u16(&mut self, what: &str) -> R<u16> {
        Ok(self.uint(2, &|| what.to_owned())? as u16)
    }

    pub fn u24(&mut self, what: &str) -> R<u32> {
        self.uint(3, &|| what.to_owned())
    }

    pub fn u32(&mut self, what: &str) -> R<u32> {
        self.uint(4, &|| what.to_owned())
    }

    pub fn take(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        self.need(n, &|| what.to_owned())?;
        let p = self.pos;
        self.pos = p + n;
        Ok(&self.buf[p..p + n])
    }

    fn len_then_take(&mut self, width: usize, what: &str) -> R<&'a [u8]> {
        let n = self.uint(width, &|| format!("{what} length"))? as usize;
        self.take(n, what)
    }

    pub fn vec8(&mut self, what: &str) -> R<&'a [u8]> {
        self.len_then_take(1, what)
    }

    pub fn vec16(&mut self, what: &str) -> R<&'a [u8]> {
        self.len_then_take(2, what)
    }

    /// A reader over the next 2-byte-length-prefixed vector (no copy).
    pub fn sub16(&mut self, what: &str) -> R<Reader<'a>> {
        let n = self.uint(2, &|| format!("{what} length"))? as usize;
        self.need(n, &|| what.to_owned())?;
        let r = Reader {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + n,
        };
        self.pos += n;
        Ok(r)
    }

    pub fn expect_end(&self, what: &str) -> R<()> {
        if self.pos != self.end {
            return Err(ParseError::new(
                format!("{} trailing bytes after {}", self.end - self.pos, what),
                self.pos,
            ));
        }
        Ok(())
    }
}
