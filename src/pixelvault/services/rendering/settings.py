"""Rendering settings in the catalog: defaults from the image's own metadata, one set per
user and image, read, set, reset and copied, with permission checks in the queries.

Whose settings show: your own if you saved some, else the image owner's, else
the defaults (made from the channels' statistics and colours, as OMERO does
at import). Saving settings on someone else's image needs the right to
annotate it (OMERO's rule); on your own, always.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pixelvault.catalog import Actor, Right
from pixelvault.catalog.models import Channel, ChannelBinding, Image, Pixels, RenderingDef
from pixelvault.catalog.permissions import allowed
from pixelvault.errors import ForbiddenError, InvalidInputError, NotFoundError
from pixelvault.formats import PIXEL_TYPES
from pixelvault.render.settings import (
    ChannelSettings,
    Settings,
    SettingsError,
    colour_from_emission,
    default_colour,
    rgba_to_hex,
)
from pixelvault.services import coherence
from pixelvault.services.jobs import queue
from pixelvault.services.vault import Vault

TTL = 2.0


@dataclass(frozen=True)
class Effective:
    """The settings a user sees for an image, and where they come from."""

    image_id: int
    pixels_id: int
    settings: Settings
    owner_id: int  # whose settings (the thumbnail store keys on it)
    version: int  # of those settings (0: the defaults, never saved)
    image_owner_id: int


def type_range(pixel_type: str) -> tuple[float, float]:
    import numpy as np

    dtype = PIXEL_TYPES[pixel_type]
    if dtype == np.bool_:
        return 0.0, 1.0
    if dtype.kind == "f":
        return 0.0, 1.0
    info = np.iinfo(dtype)
    return float(info.min), float(info.max)


@dataclass(frozen=True)
class ChannelFacts:
    """What the defaults are made from, per channel."""

    min: float | None
    max: float | None
    color: int | None  # RGBA from the metadata
    emission: float | None  # nm


def default_settings(pixel_type: str, size_c: int, size_z: int,
                     facts: list[ChannelFacts]) -> Settings:
    """OMERO's defaults: every channel on, its window its min..max (the type's range
    without statistics), its colour from the metadata, else from its emission
    wavelength, else red, green, blue...; the middle z, the first t."""
    low, high = type_range(pixel_type)
    given = [rgba_to_hex(f.color) for f in facts[:size_c]]
    # One colour for every channel (writers often put OME's default white everywhere)
    # tells nothing: then channels get colours from their wavelengths or their place.
    informative = len(set(given)) > 1 or size_c == 1
    channels = []
    for index in range(size_c):
        fact = facts[index] if index < len(facts) else ChannelFacts(None, None, None, None)
        start = fact.min if fact.min is not None else low
        end = fact.max if fact.max is not None else high
        if end < start:
            start, end = end, start
        colour = "FFFFFF"
        if size_c > 1:
            colour = (rgba_to_hex(fact.color) if informative else None) or \
                colour_from_emission(fact.emission) or default_colour(index, size_c)
        channels.append(ChannelSettings(active=True, start=float(start), end=float(end),
                                        color=colour))
    return Settings(channels=tuple(channels), model="color", default_z=size_z // 2,
                    default_t=0)


def defaults(session: Session, pixels: Pixels) -> Settings:
    rows = session.execute(select(Channel).where(Channel.pixels_id == pixels.id)
                           .order_by(Channel.index)).scalars().all()
    by_index = {c.index: c for c in rows}
    facts = [ChannelFacts(by_index[i].min, by_index[i].max, by_index[i].color,
                          by_index[i].emission_wavelength) if i in by_index
             else ChannelFacts(None, None, None, None) for i in range(pixels.size_c)]
    return default_settings(pixels.pixel_type, pixels.size_c, pixels.size_z, facts)


def _stored(session: Session, rdef: RenderingDef) -> Settings:
    bindings = session.scalars(select(ChannelBinding).where(
        ChannelBinding.rdef_id == rdef.id).order_by(ChannelBinding.index)).all()
    return Settings(
        channels=tuple(ChannelSettings(active=b.active, start=b.window_start,
                                       end=b.window_end, color=b.color, lut=b.lut,
                                       inverted=b.inverted) for b in bindings),
        model=rdef.model, default_z=rdef.default_z, default_t=rdef.default_t,
        projection=rdef.projection, projection_start=rdef.projection_start,
        projection_end=rdef.projection_end)


def _image(session: Session, actor: Actor, image_id: int) -> tuple[Image, Pixels]:
    found = session.execute(select(Image, Pixels).join(Pixels, Pixels.image_id == Image.id)
                            .where(Image.id == image_id, allowed(actor, Right.READ, Image))
                            ).first()
    if found is None:
        raise NotFoundError(f"no image with id {image_id}")
    return found[0], found[1]


def effective_in(session: Session, actor: Actor, image_id: int) -> Effective:
    image, pixels = _image(session, actor, image_id)
    for owner in dict.fromkeys((actor.user_id, image.owner_id)):
        rdef = session.scalar(select(RenderingDef).where(
            RenderingDef.pixels_id == pixels.id, RenderingDef.owner_id == owner))
        if rdef is not None:
            return Effective(image.id, pixels.id, _stored(session, rdef), owner, rdef.version,
                             image.owner_id)
    return Effective(image.id, pixels.id, defaults(session, pixels), image.owner_id, 0,
                     image.owner_id)


class _Cache:
    """A few seconds' memory of the settings in effect (tiles ask many times a second);
    every change made through any server process empties it (see coherence)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[float, int, Effective]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Effective | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or time.monotonic() - found[0] > TTL \
                    or found[1] != coherence.generation():
                return None
            return found[2]

    def put(self, key: tuple[Any, ...], value: Effective, seen: int) -> None:
        """``seen``: coherence.generation() before the query that found ``value``."""
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), seen, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = _Cache()


def effective(vault: Vault, actor: Actor, image_id: int) -> Effective:
    key = (id(vault.catalog), actor.user_id, actor.is_admin,
           tuple(sorted(actor.groups_with.get(Right.READ, frozenset()))), image_id)
    found = CACHE.get(key)
    if found is None:
        seen = coherence.generation()
        with vault.catalog.session() as session:
            found = effective_in(session, actor, image_id)
        CACHE.put(key, found, seen)
    return found


def save(session: Session, owner_id: int, pixels_id: int, settings: Settings) -> int:
    """Store ``settings`` as ``owner_id``'s for the pixels; the new version."""
    rdef = session.scalar(select(RenderingDef).where(
        RenderingDef.pixels_id == pixels_id, RenderingDef.owner_id == owner_id))
    now = datetime.now(UTC)
    if rdef is None:
        rdef = RenderingDef(pixels_id=pixels_id, owner_id=owner_id, version=0,
                            created_at=now)
        session.add(rdef)
    rdef.model, rdef.default_z, rdef.default_t = settings.model, settings.default_z, \
        settings.default_t
    rdef.projection = settings.projection
    rdef.projection_start, rdef.projection_end = settings.projection_start, \
        settings.projection_end
    rdef.version = (rdef.version or 0) + 1
    rdef.updated_at = now
    session.flush()
    session.execute(delete(ChannelBinding).where(ChannelBinding.rdef_id == rdef.id))
    session.add_all(ChannelBinding(rdef_id=rdef.id, index=i, active=c.active,
                                   window_start=c.start, window_end=c.end, color=c.color,
                                   lut=c.lut, inverted=c.inverted)
                    for i, c in enumerate(settings.channels))
    # the thumbnail that follows these settings, made by a job worker (PostgreSQL)
    queue.defer_thumbnails(session, [(pixels_id, owner_id)])
    CACHE.clear()
    return int(rdef.version)


def _may_save(actor: Actor, image: Image) -> None:
    if image.owner_id != actor.user_id and not actor.may(Right.ANNOTATE, image.owner_id,
                                                         image.group_id):
        raise ForbiddenError(f"you may see image {image.id} but not keep rendering settings "
                             "for it (that needs the right to annotate it)")


def set_settings(vault: Vault, actor: Actor, image_id: int, settings: Settings) -> Effective:
    """Save ``settings`` as the actor's own for the image."""
    with vault.catalog.session() as session:
        image, pixels = _image(session, actor, image_id)
        _may_save(actor, image)
        if len(settings.channels) != pixels.size_c:
            raise InvalidInputError(f"image {image_id} has {pixels.size_c} channels; the "
                                    f"settings describe {len(settings.channels)}")
        try:
            settings.check(pixels.size_z, pixels.size_t)
        except SettingsError as exc:
            raise InvalidInputError(str(exc)) from None
        save(session, actor.user_id, pixels.id, settings)
        found = effective_in(session, actor, image_id)
    CACHE.clear()
    return found


def reset(vault: Vault, actor: Actor, image_id: int) -> Effective:
    """The actor's settings back to the defaults (saved, so they win over the owner's)."""
    with vault.catalog.session() as session:
        image, pixels = _image(session, actor, image_id)
        _may_save(actor, image)
        save(session, actor.user_id, pixels.id, defaults(session, pixels))
        found = effective_in(session, actor, image_id)
    CACHE.clear()
    return found


def copy(vault: Vault, actor: Actor, source_id: int, target_ids: list[int]) -> list[int]:
    """The settings the actor sees on ``source_id``, saved as theirs on each target with
    the same number of channels; the ids done (others are named in the error)."""
    if not target_ids:
        raise InvalidInputError("name at least one image to copy the settings to")
    with vault.catalog.session() as session:
        source = effective_in(session, actor, source_id).settings
        done = []
        for target in target_ids:
            image, pixels = _image(session, actor, target)
            _may_save(actor, image)
            if pixels.size_c != len(source.channels):
                raise InvalidInputError(f"image {target} has {pixels.size_c} channels, image "
                                        f"{source_id} {len(source.channels)}; copy between "
                                        "images with the same channels")
            fitted = Settings(channels=source.channels, model=source.model,
                              default_z=min(source.default_z, pixels.size_z - 1),
                              default_t=min(source.default_t, pixels.size_t - 1),
                              projection=source.projection)
            save(session, actor.user_id, pixels.id, fitted)
            done.append(target)
    CACHE.clear()
    return done


def apply_owners(vault: Vault, actor: Actor, image_ids: list[int]) -> list[int]:
    """Each image's owner's settings (their defaults if they kept none) saved as the
    actor's own (OMERO's applyOwnersRDef); the ids done."""
    with vault.catalog.session() as session:
        done = []
        for image_id in image_ids:
            image, pixels = _image(session, actor, image_id)
            _may_save(actor, image)
            rdef = session.scalar(select(RenderingDef).where(
                RenderingDef.pixels_id == pixels.id, RenderingDef.owner_id == image.owner_id))
            chosen = _stored(session, rdef) if rdef is not None else defaults(session, pixels)
            if image.owner_id != actor.user_id or rdef is None:
                save(session, actor.user_id, pixels.id, chosen)
            done.append(image_id)
    CACHE.clear()
    return done


def reset_many(vault: Vault, actor: Actor, image_ids: list[int]) -> list[int]:
    """The actor's settings on each image back to the defaults (OMERO's resetRDef)."""
    with vault.catalog.session() as session:
        for image_id in image_ids:
            image, pixels = _image(session, actor, image_id)
            _may_save(actor, image)
            save(session, actor.user_id, pixels.id, defaults(session, pixels))
    CACHE.clear()
    return list(image_ids)


@dataclass(frozen=True)
class Kept:
    """One user's saved settings for an image."""

    rdef_id: int
    owner_id: int
    settings: Settings
    updated_at: datetime


def everyones(vault: Vault, actor: Actor, image_id: int) -> list[Kept]:
    """Every user's saved settings for an image the actor may read, newest first (a
    viewer offers them as "User Settings"; they are in the image's group, like it)."""
    with vault.catalog.session() as session:
        _, pixels = _image(session, actor, image_id)
        rows = session.scalars(select(RenderingDef).where(
            RenderingDef.pixels_id == pixels.id)
            .order_by(RenderingDef.updated_at.desc(), RenderingDef.id.desc())).all()
        return [Kept(row.id, row.owner_id, _stored(session, row), row.updated_at)
                for row in rows]


def channel_label(name: str, emission: float | None, index: int) -> str:
    """What a viewer calls a channel: its name; unnamed, its emission wavelength; else
    its number from 1."""
    if name.strip():
        return name
    if emission:
        return f"{emission:g}"
    return str(index + 1)


def channel_labels(vault: Vault, pixels_id: int, count: int) -> list[str]:
    with vault.catalog.session() as session:
        rows = {c.index: c for c in session.scalars(
            select(Channel).where(Channel.pixels_id == pixels_id))}
    return [channel_label(rows[i].name, rows[i].emission_wavelength, i) if i in rows
            else str(i + 1) for i in range(count)]


def bump_pixels(session: Session, pixels_id: int) -> None:
    """Pixels changed (a write, a new pyramid): their thumbnails are stale."""
    session.execute(update(Pixels).where(Pixels.id == pixels_id).values(
        version=Pixels.version + 1).execution_options(synchronize_session=False))
    CACHE.clear()


def as_json(settings: Settings) -> dict[str, Any]:
    return {"model": settings.model, "default_z": settings.default_z,
            "default_t": settings.default_t, "projection": settings.projection,
            "projection_start": settings.projection_start,
            "projection_end": settings.projection_end,
            "channels": [{"active": c.active, "start": c.start, "end": c.end,
                          "color": c.color, "lut": c.lut, "inverted": c.inverted}
                         for c in settings.channels]}


def from_json(data: dict[str, Any], current: Settings) -> Settings:
    """Settings from JSON (missing fields keep ``current``'s)."""
    try:
        channels = list(current.channels)
        given = data.get("channels")
        if given is not None:
            if not isinstance(given, list) or len(given) != len(channels):
                raise InvalidInputError(f"channels: give a list of {len(channels)} entries")
            for index, entry in enumerate(given):
                if not isinstance(entry, dict):
                    raise InvalidInputError(f"channel {index + 1}: an object is expected")
                base = channels[index]
                channels[index] = ChannelSettings(
                    active=bool(entry.get("active", base.active)),
                    start=float(entry.get("start", base.start)),
                    end=float(entry.get("end", base.end)),
                    color=str(entry.get("color", base.color)).upper(),
                    lut=str(entry.get("lut", base.lut) or ""),
                    inverted=bool(entry.get("inverted", base.inverted)))
        return Settings(
            channels=tuple(channels), model=str(data.get("model", current.model)),
            default_z=int(data.get("default_z", current.default_z)),
            default_t=int(data.get("default_t", current.default_t)),
            projection=str(data.get("projection", current.projection)),
            projection_start=_z(data, "projection_start", current.projection_start),
            projection_end=_z(data, "projection_end", current.projection_end))
    except (TypeError, ValueError, OverflowError) as exc:  # Overflow: int(Infinity)
        raise InvalidInputError(f"rendering settings: {exc}") from None


def _z(data: dict[str, Any], key: str, current: int | None) -> int | None:
    """A z index or null: compared with numbers later, so nothing else may pass."""
    value = data.get(key, current)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInputError(f"rendering settings: {key} is a whole number or null")
    return value
