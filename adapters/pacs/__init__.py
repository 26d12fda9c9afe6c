"""PACS adapters: DICOMweb client and DICOM result objects (SR, SEG)."""
