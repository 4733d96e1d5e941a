//! The dashboard's files, embedded in the component at build time (no disk,
//! no CDN): the page, its script and style, and the vendored uPlot release
//! (`assets/vendor/uplot/`, copied unmodified from the npm package with its
//! licence). The vendored files are served under a versioned path, so they
//! can be cached for a year; the page's own files are revalidated (ETag).

/// The uPlot release vendored in `assets/vendor/uplot/` (see its `VERSION`).
pub const UPLOT_VERSION: &str = "1.6.32";

/// How long a browser may keep an asset without asking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Ask every time (answered by `304` when the ETag still matches).
    Revalidate,
    /// A versioned path whose bytes never change.
    Immutable,
}

impl CachePolicy {
    pub fn header(self) -> &'static str {
        match self {
            CachePolicy::Revalidate => "no-cache",
            CachePolicy::Immutable => "public, max-age=31536000, immutable",
        }
    }
}

/// One embedded file and how it is served.
#[derive(Debug)]
pub struct Asset {
    /// The path below `/dashboard/` (the page itself is `""`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    pub cache: CachePolicy,
}

impl Asset {
    /// A strong ETag: FNV-1a of the bytes (cheap, stable across builds of
    /// the same bytes).
    pub fn etag(&self) -> String {
        let hash = self.body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
        format!("\"{hash:016x}\"")
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file the component serves.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "",
        content_type: HTML,
        body: include_bytes!("../assets/index.html"),
        cache: CachePolicy::Revalidate,
    },
    Asset {
        path: "app.js",
        content_type: JS,
        body: include_bytes!("../assets/app.js"),
        cache: CachePolicy::Revalidate,
    },
    Asset {
        path: "style.css",
        content_type: CSS,
        body: include_bytes!("../assets/style.css"),
        cache: CachePolicy::Revalidate,
    },
    Asset {
        path: "vendor/uplot-1.6.32/uPlot.iife.min.js",
        content_type: JS,
        body: include_bytes!("../assets/vendor/uplot/uPlot.iife.min.js"),
        cache: CachePolicy::Immutable,
    },
    Asset {
        path: "vendor/uplot-1.6.32/uPlot.min.css",
        content_type: CSS,
        body: include_bytes!("../assets/vendor/uplot/uPlot.min.css"),
        cache: CachePolicy::Immutable,
    },
    Asset {
        path: "vendor/uplot-1.6.32/LICENSE",
        content_type: TEXT,
        body: include_bytes!("../assets/vendor/uplot/LICENSE"),
        cache: CachePolicy::Immutable,
    },
];

/// The asset at `path` (below `/dashboard/`, without the leading slash).
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}
