"""ExportPredictions: the selected predictions as CSV for spreadsheets and audits."""

from __future__ import annotations

import csv
import io

from application.commands import ExportPredictions
from application.ports import Clock, UnitOfWork
from application.use_cases._shared import audit_entry, scoped_query
from domain.lesions import LesionFinding
from domain.outcomes import Outcome
from domain.predictions import Prediction
from domain.studies import Study

CSV_HEADER = (
    "id",
    "created_at",
    "owner_id",
    "filename",
    "label",
    "p_malignant",
    "threshold",
    "confidence",
    "model_version",
    "band",
    "borderline",
    "review_verdict",
    "review_birads",
    "review_note",
    "reviewed_at",
    "lesion_found",
    "lesion_area_fraction",
    "lesion_area_mm2",
    "lesion_bbox_x",
    "lesion_bbox_y",
    "lesion_bbox_width",
    "lesion_bbox_height",
    "outcome_result",
    "outcome_source",
    "outcome_date",
    "outcome_histology",
    "outcome_recorded_at",
    "study_id",
    "patient_ref",
    "accession_number",
    "study_date",
    "position_laterality",
    "position_clock",
    "position_distance_cm",
    "position_view",
    "position_lesion_number",
)
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_safe(text: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection) with a quote."""
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _lesion_cells(lesion: LesionFinding | None) -> tuple[str, ...]:
    """Empty cells when the model had no lesion output; the box only when one was found."""
    if lesion is None:
        return ("",) * 7
    box = lesion.bbox
    return (
        "true" if lesion.found else "false",
        f"{lesion.area_fraction:.6f}",
        "" if lesion.area_mm2 is None else f"{lesion.area_mm2:.2f}",
        *((str(box.x), str(box.y), str(box.width), str(box.height)) if box else ("",) * 4),
    )


def _study_cells(p: Prediction, study: Study | None) -> tuple[str, ...]:
    """Empty cells for a loose upload; the position cells only when one was given."""
    if study is None:
        return ("",) * 9
    where = p.position
    return (
        str(study.id),
        csv_safe(study.patient_ref),
        csv_safe(study.accession_number or ""),
        study.study_date.isoformat(),
        *(
            (
                where.laterality.value,
                where.clock_label or "",
                ""
                if where.distance_from_nipple_cm is None
                else f"{where.distance_from_nipple_cm:g}",
                where.view.value,
                str(where.lesion_number),
            )
            if where
            else ("",) * 5
        ),
    )


def _outcome_cells(outcome: Outcome | None) -> tuple[str, ...]:
    """Empty cells until an outcome is recorded."""
    if outcome is None:
        return ("",) * 5
    return (
        outcome.result.value,
        outcome.source.value,
        outcome.outcome_date.isoformat(),
        csv_safe(outcome.histology),
        outcome.recorded_at.isoformat(),
    )


def _row(p: Prediction, study: Study | None) -> tuple[str, ...]:
    review = p.review
    return (
        str(p.id),
        p.created_at.isoformat(),
        str(p.owner_id),
        csv_safe(p.filename),
        p.label.value,
        f"{p.p_malignant:.6f}",
        f"{p.threshold:.6f}",
        f"{p.confidence:.6f}",
        csv_safe(p.model_version),
        p.likelihood.band.value,
        "true" if p.likelihood.borderline else "false",
        review.verdict.value if review else "",
        review.birads.value if review and review.birads else "",
        csv_safe(review.note) if review else "",
        review.reviewed_at.isoformat() if review else "",
        *_lesion_cells(p.lesion),
        *_outcome_cells(p.outcome),
        *_study_cells(p, study),
    )


class ExportPredictionsUseCase:
    """CSV of every prediction the filters select, owner-scoped like the listing."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: ExportPredictions) -> str:
        query = scoped_query(cmd.actor, cmd.filters)
        async with self._uow as uow:
            predictions = await uow.predictions.all_matching(query)
            studies = await uow.studies.get_many([p.study_id for p in predictions if p.study_id])
            await uow.audit.record(
                audit_entry(
                    self._clock,
                    "prediction.exported",
                    actor_id=cmd.actor.id,
                    detail=f"rows={len(predictions)}",
                    client=cmd.client,
                )
            )
            await uow.commit()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(
            _row(p, studies.get(p.study_id) if p.study_id else None) for p in predictions
        )
        return out.getvalue()
