"""One colour per likelihood band, the same on every page and chart (never colour alone)."""

from __future__ import annotations

from domain.bands import BandName

# A sequential scale, light to dark: no alarm red for an intermediate result.
BAND_COLOURS: dict[BandName, str] = {
    BandName.VERY_LOW: "#2c7bb6",
    BandName.LOW: "#7fbcd2",
    BandName.INTERMEDIATE: "#e0b040",
    BandName.HIGH: "#e07b39",
    BandName.VERY_HIGH: "#b2182b",
}
BAND_ICONS: dict[BandName, str] = {
    BandName.VERY_LOW: "radio_button_unchecked",
    BandName.LOW: "brightness_1",
    BandName.INTERMEDIATE: "adjust",
    BandName.HIGH: "error_outline",
    BandName.VERY_HIGH: "error",
}
THRESHOLD_COLOUR = "#000000"


def band_colour(name: BandName | str) -> str:
    return BAND_COLOURS[BandName(name)]
