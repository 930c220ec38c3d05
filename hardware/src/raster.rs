//! A 1-bit page image, the way a thermal printer sees it: rows of dots packed 8 to a byte, most
//! significant bit leftmost, 1 = black (ESC/POS `GS v 0` layout).

use std::io;
use std::path::Path;

/// A black-and-white page.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    width: usize,
    height: usize,
    bytes_per_row: usize,
    bits: Vec<u8>,
}

impl core::fmt::Debug for Raster {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Raster({}x{}, {} black dots)", self.width, self.height, self.black_dots())
    }
}

impl Raster {
    /// A white page of `width` × `height` dots.
    pub fn new(width: usize, height: usize) -> Self {
        let bytes_per_row = width.div_ceil(8);
        Raster { width, height, bytes_per_row, bits: vec![0; bytes_per_row * height] }
    }

    /// A page from packed rows; `None` if `bits` is not `ceil(width/8) × height` bytes.
    pub fn from_bits(width: usize, height: usize, bits: Vec<u8>) -> Option<Self> {
        let bytes_per_row = width.div_ceil(8);
        (bits.len() == bytes_per_row * height).then_some(Raster { width, height, bytes_per_row, bits })
    }

    /// Width in dots.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes in one packed row.
    pub fn bytes_per_row(&self) -> usize {
        self.bytes_per_row
    }

    /// Row `y`, packed.
    pub fn row(&self, y: usize) -> &[u8] {
        &self.bits[y * self.bytes_per_row..(y + 1) * self.bytes_per_row]
    }

    /// All rows, packed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    /// Whether row `y` has no black dot.
    pub fn is_row_blank(&self, y: usize) -> bool {
        self.row(y).iter().all(|&b| b == 0)
    }

    /// Whether the dot at (`x`, `y`) is black; dots outside the page are white.
    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.bits[y * self.bytes_per_row + x / 8] & (0x80 >> (x % 8)) != 0
    }

    /// Blackens or whitens the dot at (`x`, `y`); dots outside the page are ignored.
    pub fn set(&mut self, x: usize, y: usize, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let byte = &mut self.bits[y * self.bytes_per_row + x / 8];
        if black {
            *byte |= 0x80 >> (x % 8);
        } else {
            *byte &= !(0x80 >> (x % 8));
        }
    }

    /// Blackens a rectangle (clipped to the page).
    pub fn fill(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.set(xx, yy, true);
            }
        }
    }

    /// Number of black dots.
    pub fn black_dots(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Appends the rows of `other`, which must be as wide.
    pub fn append(&mut self, other: &Raster) {
        debug_assert_eq!(self.bytes_per_row, other.bytes_per_row);
        self.bits.extend_from_slice(&other.bits);
        self.height += other.height;
    }

    /// Appends `rows` packed rows of this page's width.
    pub(crate) fn push_rows(&mut self, packed: &[u8]) {
        let rows = packed.len() / self.bytes_per_row;
        self.bits.extend_from_slice(&packed[..rows * self.bytes_per_row]);
        self.height += rows;
    }

    /// Encodes the page as a 1-bit grayscale PNG (white paper, black dots).
    pub fn write_png<W: io::Write>(&self, out: W) -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(out, self.width as u32, self.height.max(1) as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header()?;
        // PNG grayscale 1 is white; on paper 1 is a black dot.
        let mut data: Vec<u8> = self.bits.iter().map(|b| !b).collect();
        if self.height == 0 {
            data = vec![0xFF; self.bytes_per_row];
        }
        writer.write_image_data(&data)?;
        writer.finish()
    }

    /// Writes the page to a PNG file.
    pub fn save_png(&self, path: &Path) -> io::Result<()> {
        let file = io::BufWriter::new(std::fs::File::create(path)?);
        self.write_png(file).map_err(io::Error::other)
    }

    /// Reads a 1-bit or 8-bit grayscale PNG written by [`write_png`](Self::write_png) (for
    /// comparing printed pages with reference images).
    pub fn read_png<R: io::Read + io::BufRead + io::Seek>(input: R) -> Result<Self, png::DecodingError> {
        let mut decoder = png::Decoder::new(input);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut buf)?;
        let (w, h) = (info.width as usize, info.height as usize);
        let channels = info.color_type.samples();
        let mut raster = Raster::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let sample = buf[y * info.line_size + x * channels];
                raster.set(x, y, sample < 128);
            }
        }
        Ok(raster)
    }
}
