"""Image files written with tifffile and Pillow, with the pixels each must read back as.

``truth`` is indexed [t, c, z, y, x] for level 0; pyramid levels are exact 2x
subsamples of it, written that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PIL import Image

RNG = np.random.default_rng(7)


@dataclass
class Sample:
    name: str
    path: Path
    truth: list[np.ndarray[Any, Any]]  # one [t, c, z, y, x] array per series
    pixel_type: str
    levels: int = 1
    exact: bool = True
    channel_names: list[str] = field(default_factory=list)
    physical_size_x: float | None = None
    physical_size_z: float | None = None


def _random(shape: tuple[int, ...], dtype: Any) -> np.ndarray[Any, Any]:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return RNG.integers(0, 2, shape).astype(bool)
    if dtype.kind == "f":
        return RNG.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return RNG.integers(max(info.min, -30000), min(info.max, 60000), shape,
                        endpoint=True).astype(dtype)


def plain_tiff(d: Path) -> Sample:
    data = _random((48, 64), np.uint8)
    tifffile.imwrite(d / "plain.tif", data)
    return Sample("plain TIFF", d / "plain.tif", [data[None, None, None]], "uint8")


def multipage_tiff(d: Path) -> Sample:
    data = _random((5, 40, 30), np.uint16)
    with tifffile.TiffWriter(d / "pages.tif") as tif:
        for page in data:
            tif.write(page, contiguous=False, metadata=None)
    # Unlabelled pages are time points, as in Bio-Formats.
    return Sample("multi-page TIFF", d / "pages.tif", [data[:, None, None]], "uint16")


def bigtiff_tiled(d: Path) -> Sample:
    data = _random((3, 100, 130), np.float32)
    tifffile.imwrite(d / "big.tif", data, bigtiff=True, tile=(32, 48), compression="zlib",
                     photometric="minisblack",
                     metadata={"axes": "ZYX"})
    return Sample("BigTIFF tiled zlib float", d / "big.tif", [data[None, None]], "float")


def typed_tiff(dtype: Any, name: str) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        data = _random((2, 20, 24), dtype)
        path = d / f"typed-{name}.tif"
        tifffile.imwrite(path, data, metadata={"axes": "CYX"}, photometric="minisblack")
        return Sample(f"TIFF {name}", path, [data[None, :, None]], name)
    return make


def ome_tiff(d: Path) -> Sample:
    data = _random((2, 3, 4, 50, 60), np.uint16)  # T C Z Y X
    tifffile.imwrite(d / "cells.ome.tif", data, ome=True, tile=(32, 32), compression="zlib",
                     metadata={"axes": "TCZYX", "PhysicalSizeX": 0.65, "PhysicalSizeY": 0.65,
                               "PhysicalSizeZ": 2.0,
                               "Channel": {"Name": ["DAPI", "GFP", "mCherry"]}})
    return Sample("OME-TIFF TCZYX", d / "cells.ome.tif", [data], "uint16",
                  channel_names=["DAPI", "GFP", "mCherry"], physical_size_x=0.65,
                  physical_size_z=2.0)


def ome_pyramid(d: Path) -> Sample:
    full = _random((256, 320, 3), np.uint8)
    path = d / "slide.ome.tif"
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        tif.write(full, subifds=2, tile=(64, 64), photometric="rgb", metadata={"axes": "YXS"})
        tif.write(full[::2, ::2], subfiletype=1, tile=(64, 64), photometric="rgb")
        tif.write(full[::4, ::4], subfiletype=1, tile=(64, 64), photometric="rgb")
    truth = np.moveaxis(full, 2, 0)[None, :, None]  # samples become channels
    return Sample("pyramidal OME-TIFF RGB", path, [truth], "uint8", levels=3)


def ome_multiseries(d: Path) -> Sample:
    first, second = _random((2, 30, 40), np.int16), _random((3, 20, 25), np.int16)
    path = d / "two.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(first, metadata={"axes": "ZYX", "Name": "first"})
        tif.write(second, metadata={"axes": "CYX", "Name": "second"})
    return Sample("OME-TIFF two series", path,
                  [first[None, None], second[None, :, None]], "int16")


def imagej_hyperstack(d: Path) -> Sample:
    data = _random((2, 3, 2, 24, 32), np.uint16)  # T Z C Y X
    path = d / "stack.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um"})
    return Sample("ImageJ hyperstack", path, [np.transpose(data, (0, 2, 1, 3, 4))], "uint16",
                  physical_size_x=0.25, physical_size_z=1.5)


def png_rgb(d: Path) -> Sample:
    data = _random((30, 40, 3), np.uint8)
    Image.fromarray(data).save(d / "photo.png")
    return Sample("PNG RGB", d / "photo.png", [np.moveaxis(data, 2, 0)[None, :, None]],
                  "uint8")


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG of a few bytes whose header declares ``width`` x ``height`` pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def png_16bit(d: Path) -> Sample:
    data = _random((25, 35), np.uint16)
    Image.fromarray(data).save(d / "grey16.png")
    return Sample("PNG 16-bit", d / "grey16.png", [data[None, None, None]], "uint16")


def bmp(d: Path) -> Sample:
    data = _random((17, 23), np.uint8)
    Image.fromarray(data).save(d / "grey.bmp")
    return Sample("BMP", d / "grey.bmp", [data[None, None, None]], "uint8")


def jpeg(d: Path) -> Sample:
    data = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
    Image.fromarray(data).save(d / "ramp.jpg", quality=95)
    return Sample("JPEG", d / "ramp.jpg", [data[None, None, None]], "uint8", exact=False)


def gif_frames(d: Path) -> Sample:
    frames = [np.full((10, 12), value, np.uint8) for value in (0, 128, 255)]
    images = [Image.fromarray(f).convert("P") for f in frames]
    images[0].save(d / "blink.gif", save_all=True, append_images=images[1:], duration=100)
    truth = np.stack([np.stack([f, f, f]) for f in frames])[:, :, None]
    return Sample("GIF frames", d / "blink.gif", [truth], "uint8")


MAKERS: list[Callable[[Path], Sample]] = [
    plain_tiff, multipage_tiff, bigtiff_tiled, ome_tiff, ome_pyramid, ome_multiseries,
    imagej_hyperstack, png_rgb, png_16bit, bmp, jpeg, gif_frames,
    typed_tiff(np.int8, "int8"), typed_tiff(np.int32, "int32"), typed_tiff(np.int16, "int16"),
    typed_tiff(np.uint32, "uint32"), typed_tiff(np.float64, "double"),
]


def _bindata(plane: np.ndarray[Any, Any], compression: str, big_endian: bool) -> str:
    import base64
    import bz2
    import zlib

    if plane.dtype == np.bool_:
        raw = np.packbits(plane.ravel()).tobytes()
    else:
        raw = plane.astype(plane.dtype.newbyteorder(">" if big_endian else "<")).tobytes()
    codecs: dict[str, Callable[[bytes], bytes]] = {"zlib": zlib.compress,
                                                   "bzip2": bz2.compress, "none": bytes}
    packed = codecs[compression](raw)
    return (f'<BinData BigEndian="{str(big_endian).lower()}" Compression="{compression}" '
            f'Length="{len(packed)}">{base64.b64encode(packed).decode()}</BinData>')


def ome_xml(dtype: Any, type_name: str, compression: str, big_endian: bool,
            order: str) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        size_t, size_c, size_z, size_y, size_x = 2, 2, 3, 9, 11
        truth = _random((size_t, size_c, size_z, size_y, size_x), dtype)
        sizes = {"Z": size_z, "C": size_c, "T": size_t}
        blocks = []
        import itertools

        # Planes in file order: the first letter after XY varies fastest.
        ranges = [range(sizes[a]) for a in reversed(order[2:])]
        for combo in itertools.product(*ranges):
            index = dict(zip(reversed(order[2:]), combo, strict=True))
            blocks.append(_bindata(truth[index["T"], index["C"], index["Z"]], compression,
                                   big_endian))
        channels = "".join(f'<Channel ID="Channel:0:{c}" Name="ch{c}" SamplesPerPixel="1"/>'
                           for c in range(size_c))
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>'
               f'<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
               f'<Image ID="Image:0" Name="inline"><Pixels ID="Pixels:0" '
               f'DimensionOrder="{order}" Type="{type_name}" SizeX="{size_x}" '
               f'SizeY="{size_y}" SizeZ="{size_z}" SizeC="{size_c}" SizeT="{size_t}" '
               f'PhysicalSizeX="0.2" PhysicalSizeXUnit="µm">{channels}{"".join(blocks)}'
               f"</Pixels></Image></OME>")
        path = d / f"inline-{type_name}-{compression}-{order}.ome.xml"
        path.write_text(xml, encoding="utf-8")
        return Sample(f"OME-XML {type_name} {compression} {order}", path, [truth], type_name,
                      channel_names=[f"ch{c}" for c in range(size_c)], physical_size_x=0.2)
    make.__name__ = f"ome_xml_{type_name}_{compression}_{order}"
    return make


MAKERS += [
    ome_xml(np.uint16, "uint16", "zlib", True, "XYZCT"),
    ome_xml(np.float32, "float", "bzip2", False, "XYCZT"),
    ome_xml(np.int8, "int8", "none", False, "XYTZC"),
    ome_xml(np.float64, "double", "zlib", False, "XYCTZ"),
    ome_xml(np.uint32, "uint32", "none", True, "XYZTC"),
    ome_xml(np.bool_, "bit", "none", True, "XYTCZ"),
]


def ome_zarr(version: str) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        import zarr

        truth = _random((2, 3, 2, 64, 48), np.uint16)  # T C Z Y X
        path = d / f"image-{version}.ome.zarr"
        root = zarr.open_group(str(path), mode="w", zarr_format=3 if version == "0.5" else 2)
        datasets = []
        for level in range(3):
            step = 2 ** level
            data = truth[:, :, :, ::step, ::step]
            root.create_array(str(level), shape=data.shape, dtype=data.dtype,
                              chunks=(1, 1, 1, 16, 16))[...] = data
            datasets.append({"path": str(level), "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 1.0, 2.0, 0.5 * step, 0.5 * step]}]})
        axes = [{"name": "t", "type": "time", "unit": "second"},
                {"name": "c", "type": "channel"},
                {"name": "z", "type": "space", "unit": "micrometer"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"}]
        multiscales: list[dict[str, Any]] = [{"version": version, "name": "cells", "axes": axes,
                        "datasets": datasets}]
        omero: dict[str, Any] = {"channels": [{"label": name, "color": colour} for name, colour in
                              (("DAPI", "0000FF"), ("GFP", "00FF00"), ("RFP", "FF0000"))]}
        if version == "0.5":
            root.attrs["ome"] = {"version": "0.5", "multiscales": multiscales,
                                 "omero": omero}
        else:
            root.attrs.update({"multiscales": multiscales, "omero": omero})
        return Sample(f"OME-Zarr {version}", path, [truth], "uint16", levels=3,
                      channel_names=["DAPI", "GFP", "RFP"], physical_size_x=0.5,
                      physical_size_z=2.0)
    make.__name__ = f"ome_zarr_{version.replace('.', '_')}"
    return make


MAKERS += [ome_zarr("0.4"), ome_zarr("0.5")]


def czi_file(dtype: Any, type_name: str, scenes: int) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        from pylibCZIrw import czi as pyczi

        path = d / f"scan-{type_name}-{scenes}.czi"
        truths = [_random((2, 2, 3, 24 - 4 * s, 32 - 6 * s), dtype) for s in range(scenes)]
        with pyczi.create_czi(str(path), exist_ok=True) as writer:
            for scene, truth in enumerate(truths):
                for t in range(2):
                    for c in range(2):
                        for z in range(3):
                            writer.write(data=truth[t, c, z], plane={"T": t, "C": c, "Z": z},
                                         scene=scene, location=(200 * scene, 100 * scene))
            writer.write_metadata(channel_names={0: "DAPI", 1: "GFP"}, scale_x=0.25e-6,
                                  scale_y=0.25e-6, scale_z=1.5e-6)
        return Sample(f"CZI {type_name} {scenes} scene(s)", path, truths, type_name,
                      channel_names=["DAPI", "GFP"], physical_size_x=0.25,
                      physical_size_z=1.5)
    make.__name__ = f"czi_{type_name}_{scenes}"
    return make


def czi_colour(dtype: Any, type_name: str) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        from pylibCZIrw import czi as pyczi

        path = d / f"colour-{type_name}.czi"
        truth = _random((1, 3, 2, 20, 26), dtype)  # T, C = R G B, Z, Y, X
        with pyczi.create_czi(str(path), exist_ok=True) as writer:
            for z in range(2):
                bgr = np.ascontiguousarray(np.stack([truth[0, 2 - k, z] for k in range(3)],
                                                    axis=-1))
                writer.write(data=bgr, plane={"T": 0, "C": 0, "Z": z})
            writer.write_metadata(channel_names={0: "brightfield"}, scale_x=0.5e-6,
                                  scale_y=0.5e-6)
        return Sample(f"CZI colour {type_name}", path, [truth], type_name,
                      channel_names=["brightfield R", "brightfield G", "brightfield B"],
                      physical_size_x=0.5)
    make.__name__ = f"czi_colour_{type_name}"
    return make


MAKERS += [czi_file(np.uint16, "uint16", 1), czi_file(np.uint8, "uint8", 2),
           czi_file(np.float32, "float", 1), czi_colour(np.uint8, "uint8"),
           czi_colour(np.uint16, "uint16")]


def companion_set(d: Path) -> Sample:
    """A .companion.ome describing planes held by two BinaryOnly OME-TIFFs."""
    truth = _random((1, 2, 2, 12, 10), np.uint16)  # T C Z Y X: 4 planes, 2 per file
    uuids = [f"urn:uuid:7a000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    names = ["part-c0.ome.tif", "part-c1.ome.tif"]
    blocks = "".join(
        f'<TiffData FirstC="{c}" FirstZ="0" IFD="0" PlaneCount="2"><UUID FileName="{names[c]}">'
        f"{uuids[c + 1]}</UUID></TiffData>" for c in range(2))
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/'
           f'Schemas/OME/2016-06" UUID="{uuids[0]}"><Image ID="Image:0" Name="companion">'
           f'<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="10" SizeY="12" '
           f'SizeZ="2" SizeC="2" SizeT="1"><Channel ID="Channel:0:0" Name="DAPI"/>'
           f'<Channel ID="Channel:0:1" Name="GFP"/>{blocks}</Pixels></Image></OME>')
    companion = d / "set.companion.ome"
    companion.write_text(xml)
    for c, name in enumerate(names):
        binary_only = (f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.'
                       f'openmicroscopy.org/Schemas/OME/2016-06" UUID="{uuids[c + 1]}">'
                       f'<BinaryOnly MetadataFile="set.companion.ome" UUID="{uuids[0]}"/></OME>')
        with tifffile.TiffWriter(d / name) as tif:
            for z in range(2):
                tif.write(truth[0, c, z], description=binary_only if z == 0 else None,
                          metadata=None, photometric="minisblack")
    return Sample("companion OME-XML with OME-TIFFs", companion, [truth], "uint16",
                  channel_names=["DAPI", "GFP"])


MAKERS.append(companion_set)


def nd2_file(dtype: Any, type_name: str, positions: int, compressed: bool
             ) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        from tests.formats.nd2_files import write_nd2

        path = d / f"acquired-{type_name}-{positions}.nd2"
        data = _random((positions, 2, 3, 2, 24, 36), dtype)  # P T Z C Y X
        write_nd2(path, data, channels=["DAPI", "GFP"], positions=positions,
                  calibration=0.325, z_step=0.75, period_ms=250.0, compressed=compressed,
                  description="HeLa, H2B-GFP")
        truths = [np.ascontiguousarray(data[p].transpose(0, 2, 1, 3, 4))  # T C Z Y X
                  for p in range(positions)]
        return Sample(f"ND2 {type_name}", path, truths, type_name,
                      channel_names=["DAPI", "GFP"], physical_size_x=0.325,
                      physical_size_z=0.75)
    make.__name__ = f"nd2_{type_name}_{positions}{'_zlib' if compressed else ''}"
    return make


MAKERS += [nd2_file(np.uint16, "uint16", 2, False), nd2_file(np.uint8, "uint8", 1, True),
           nd2_file(np.float32, "float", 1, False)]


def lif_file(dtype: Any, type_name: str) -> Callable[[Path], Sample]:
    def make(d: Path) -> Sample:
        from tests.formats.lif_files import write_lif

        path = d / f"project-{type_name}.lif"
        truths = [_random((2, 2, 3, 20, 28), dtype), _random((1, 1, 1, 16, 12), dtype)]
        write_lif(path, truths, channels=[["DAPI", "GFP"], ["BF"]], pixel_size_um=0.125,
                  z_step_um=0.5)
        return Sample(f"LIF {type_name}", path, truths, type_name,
                      channel_names=["DAPI", "GFP"], physical_size_x=0.125,
                      physical_size_z=0.5)
    make.__name__ = f"lif_{type_name}"
    return make


def lif_rgb(d: Path) -> Sample:
    from tests.formats.lif_files import write_lif

    path = d / "brightfield.lif"
    truth = _random((1, 3, 2, 18, 22), np.uint8)
    write_lif(path, [truth], channels=[[]], rgb=True)
    return Sample("LIF RGB", path, [truth], "uint8", channel_names=["R", "G", "B"],
                  physical_size_x=0.25)


MAKERS += [lif_file(np.uint16, "uint16"), lif_file(np.uint8, "uint8"),
           lif_file(np.float32, "float"), lif_rgb]


def ome_zarr_plate(version: str) -> Callable[[Path], Sample]:
    """A 1x2 plate, two fields in the first well and one in the second."""
    def make(d: Path) -> Sample:
        import zarr

        path = d / f"plate-{version}.ome.zarr"
        v3 = version == "0.5"
        root = zarr.open_group(str(path), mode="w", zarr_format=3 if v3 else 2)
        truths: list[np.ndarray[Any, Any]] = []
        fields = {("B", "3"): 2, ("B", "4"): 1}
        for (row, column), count in fields.items():
            well = root.create_group(f"{row}/{column}")
            for field_index in range(count):
                truth = _random((1, 2, 1, 24, 20), np.uint16)
                truths.append(truth)
                image = well.create_group(str(field_index))
                image.create_array("0", shape=truth.shape, dtype=truth.dtype,
                                   chunks=(1, 1, 1, 12, 10))[...] = truth
                multiscales: list[dict[str, Any]] = [{"version": version, "axes": [
                    {"name": a, "type": kind} for a, kind in
                    (("t", "time"), ("c", "channel"), ("z", "space"), ("y", "space"),
                     ("x", "space"))],
                    "datasets": [{"path": "0", "coordinateTransformations": [
                        {"type": "scale", "scale": [1.0, 1.0, 1.0, 1.0, 1.0]}]}]}]
                omero = {"channels": [{"label": "DAPI", "color": "0000FF"},
                                      {"label": "GFP", "color": "00FF00"}]}
                if v3:
                    image.attrs["ome"] = {"version": version, "multiscales": multiscales,
                                          "omero": omero}
                else:
                    image.attrs.update({"multiscales": multiscales, "omero": omero})
            well_meta: dict[str, Any] = {"images": [{"path": str(i)} for i in range(count)]}
            if v3:
                well.attrs["ome"] = {"version": version, "well": well_meta}
            else:
                well.attrs["well"] = {**well_meta, "version": version}
        plate: dict[str, Any] = {"name": "screen", "rows": [{"name": "A"}, {"name": "B"}],
                 "columns": [{"name": str(n)} for n in range(1, 5)],
                 "wells": [{"path": f"{r}/{c}", "rowIndex": 1, "columnIndex": int(c) - 1}
                           for r, c in fields], "field_count": 2}
        if v3:
            root.attrs["ome"] = {"version": version, "plate": plate}
        else:
            root.attrs["plate"] = {**plate, "version": version}
        return Sample(f"OME-Zarr plate {version}", path, truths, "uint16",
                      channel_names=["DAPI", "GFP"])
    make.__name__ = f"ome_zarr_plate_{version.replace('.', '_')}"
    return make


MAKERS += [ome_zarr_plate("0.4"), ome_zarr_plate("0.5")]
