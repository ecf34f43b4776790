//! Cursor pagination. A cursor is the sort key of the last item of a page, made opaque so that
//! callers do not build them by hand.

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size used when the caller asks for none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// A validated request for one page: at most `limit` items whose sort key is after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    /// Builds a page request from what a caller sent: a size (0 = default) and a token.
    pub fn parse(page_size: i32, page_token: &str) -> crate::Result<Self> {
        let limit = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => return Err(crate::Error::invalid("page_size", "must not be negative")),
            n if n as u32 > MAX_PAGE_SIZE => {
                return Err(crate::Error::invalid(
                    "page_size",
                    format!("is {n}; the largest page is {MAX_PAGE_SIZE}"),
                ));
            }
            n => n as u32,
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(Cursor::decode(page_token)?)
        };
        Ok(PageRequest { limit, after })
    }
}

/// One page of results. `next` is set when more items follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Stores fetch `limit + 1` rows; this trims the extra row and turns it into a cursor.
    pub fn from_overfetch(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|last| Cursor::encode(&key(last)))
        } else {
            None
        };
        Page { items, next }
    }
}

/// Encodes and decodes page tokens (hex of a versioned sort key).
pub struct Cursor;

impl Cursor {
    const VERSION: &'static str = "v1:";

    pub fn encode(key: &str) -> String {
        let raw = format!("{}{}", Self::VERSION, key);
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(token: &str) -> crate::Result<String> {
        let bad = || crate::Error::invalid("page_token", "is not a token this server issued");
        if token.len() % 2 != 0 || token.len() > 1024 {
            return Err(bad());
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(token.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad())
            })
            .collect::<crate::Result<Vec<u8>>>()?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        raw.strip_prefix(Self::VERSION)
            .map(str::to_owned)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let token = Cursor::encode("platform-team");
        assert_eq!(Cursor::decode(&token).unwrap(), "platform-team");
        assert!(Cursor::decode("zz").is_err());
        assert!(Cursor::decode("abc").is_err());
        assert!(Cursor::decode(&"41".repeat(4)).is_err());
    }

    #[test]
    fn page_size_limits() {
        assert_eq!(PageRequest::parse(0, "").unwrap().limit, DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::parse(7, "").unwrap().limit, 7);
        assert!(PageRequest::parse(-1, "").is_err());
        let err = PageRequest::parse(501, "").unwrap_err();
        assert_eq!(err.to_string(), "page_size is 501; the largest page is 500");
    }

    #[test]
    fn overfetch_makes_a_cursor_only_when_more_follow() {
        let page = Page::from_overfetch(vec!["a", "b", "c"], 2, |s| s.to_string());
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(Cursor::decode(page.next.as_deref().unwrap()).unwrap(), "b");
        let page = Page::from_overfetch(vec!["a", "b"], 2, |s| s.to_string());
        assert_eq!(page.next, None);
    }
}
