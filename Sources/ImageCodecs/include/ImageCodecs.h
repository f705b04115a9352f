/* PNG and JPEG decoding to 8-bit RGB and encoding, from and to memory, over libpng and
 * libjpeg(-turbo). Both libraries report errors by longjmp (libpng from png_error, libjpeg from
 * error_exit); every setjmp and longjmp happens inside these C functions, so no jump ever
 * crosses a Swift frame. Each call reports its outcome in a status and a message. */
#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H

#include <stddef.h>

enum ic_status {
    IC_OK = 0,
    /* The data ends before the image does. */
    IC_TRUNCATED = 1,
    /* The library rejected the data (bad checksum, invalid marker, ...). */
    IC_CORRUPT = 2,
    /* Valid but not decodable here: too large, or a colour space with no RGB conversion (CMYK). */
    IC_UNSUPPORTED = 3,
    IC_NO_MEMORY = 4,
};

typedef struct {
    /* width × height × 3 bytes, RGB, rows top to bottom; malloc'd, release with ic_free. */
    unsigned char *pixels;
    int width;
    int height;
    int status;
    char message[256];
} ic_image;

typedef struct {
    /* The encoded file; malloc'd, release with ic_free. */
    unsigned char *bytes;
    size_t size;
    int status;
    char message[256];
} ic_buffer;

/* Decodes a PNG of any colour type and depth: palette and grey expanded to RGB, 16-bit samples
 * scaled to 8 bits, alpha (or a tRNS transparency) dropped, interlacing undone. Images wider or
 * taller than max_side are IC_UNSUPPORTED. */
void ic_decode_png(const unsigned char *data, size_t size, int max_side, ic_image *out);

/* Decodes a JPEG (baseline or progressive, grey or YCbCr) to RGB. Any libjpeg warning (corrupt
 * data, a premature end) fails the decode: libjpeg would otherwise fill the rest with grey. */
void ic_decode_jpeg(const unsigned char *data, size_t size, int max_side, ic_image *out);

/* Encodes width × height pixels of `channels` samples each (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA) at bit_depth 8 or 16 (16-bit samples big-endian, two bytes each). With a palette of
 * palette_entries RGB triples, pixels are one 8-bit index each (channels 1, bit_depth 8). */
void ic_encode_png(const unsigned char *pixels, int width, int height, int channels, int bit_depth,
                   const unsigned char *palette, int palette_entries, ic_buffer *out);

/* Encodes grey (channels 1) or RGB (channels 3) 8-bit pixels as a baseline JPEG of the given
 * quality (1-100). */
void ic_encode_jpeg(const unsigned char *pixels, int width, int height, int channels, int quality, ic_buffer *out);

void ic_free(void *p);

#endif
