"""The chart core: frames and the catalogue in, plotly figures out (pure: no I/O, no Streamlit).

Every band colour, threshold and scale label comes from the catalogue's method file; the
thresholds are applied by `riskmap.scoring.band_ids`. Each chart copes with an empty frame
(an empty figure with a message). Built from plain trace dicts and numpy arrays, so the
heat map of a national ministry (1,000 units x 29 risks) builds in a fraction of a second.

- `heatmap`, `heatmap_after`, `heatmap_order`: units x risk scenarios, coloured by band.
- `group_heatmap`, `group_summary`: groups of units (type, region) x risks, worst and counts.
- `chain_chart`, `chain_grid`: the trafficking chain, the weakest link marked.
- `image_config`: the plotly config that downloads a map's picture (PNG or SVG).
- `matrix`, `matrix_pair`, `matrix_counts`: the likelihood x impact matrix with counts.
- `type_risk_heatmap`, `type_risk_summary`: unit types x risks, the ministry at a glance.
- `with_pick_layer`, `cell_of`: click a heat map cell (plotly reports no click on heat maps).
- `principle_heatmap`: mean control maturity per unit type and principle.
- `gantt`, `overdue`: the remediation timeline.
- `trend_units`, `movers`, `residual_change`: residual change per unit between cycles.
- `band_colors`, `band_of`, `band_index`, `band_colorscale`: the band helpers.
"""

from riskmap.charts.bands import (
    band_colors,
    band_colorscale,
    band_index,
    band_names,
    band_of,
    band_text_colors,
    color_of_index,
    format_scores,
)
from riskmap.charts.chain import WEAKEST_WORDS, chain_chart, chain_grid
from riskmap.charts.common import IMAGE_FORMATS, empty_figure, image_config, shorten
from riskmap.charts.gantt import CLOSED_STATUSES, STATUS_COLORS, gantt, overdue
from riskmap.charts.glance import type_risk_heatmap, type_risk_summary
from riskmap.charts.groups import GROUPINGS, group_heatmap, group_name, group_summary
from riskmap.charts.heatmap import heatmap, heatmap_after, heatmap_order
from riskmap.charts.matrix import matrix, matrix_counts, matrix_pair, round_half_up
from riskmap.charts.pick import cell_of, with_pick_layer
from riskmap.charts.principles import principle_heatmap
from riskmap.charts.trend import movers, residual_change, trend_units

__all__ = [
    "WEAKEST_WORDS",
    "chain_chart",
    "chain_grid",
    "GROUPINGS",
    "IMAGE_FORMATS",
    "group_heatmap",
    "group_name",
    "group_summary",
    "image_config",
    "shorten",
    "CLOSED_STATUSES",
    "STATUS_COLORS",
    "band_colors",
    "cell_of",
    "band_colorscale",
    "band_index",
    "band_names",
    "band_of",
    "band_text_colors",
    "color_of_index",
    "empty_figure",
    "format_scores",
    "gantt",
    "heatmap",
    "heatmap_after",
    "heatmap_order",
    "matrix",
    "matrix_counts",
    "matrix_pair",
    "movers",
    "overdue",
    "principle_heatmap",
    "residual_change",
    "round_half_up",
    "trend_units",
    "type_risk_heatmap",
    "type_risk_summary",
    "with_pick_layer",
]
