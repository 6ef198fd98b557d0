"""The 68-point face (iBUG/Multi-PIE numbering, as OpenFace/CLNF writes it): regions and a template.

Camera-space convention of OpenFace: x to the image right, y down, z away from the camera, mm.
The template is a generic adult face built from simple curves (not fitted to anyone), centred
on the nose bridge; it is the target of rigid alignment and the base of the synthetic corpus.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

REGIONS = {  # region -> landmark indices, in the row order pseudo-images use
    "jaw": tuple(range(0, 17)),
    "brows": tuple(range(17, 27)),
    "nose": tuple(range(27, 36)),
    "eyes": tuple(range(36, 48)),
    "mouth": tuple(range(48, 68)),
}
ROW_ORDER = tuple(i for idx in REGIONS.values() for i in idx)  # region-grouped (the 68 numbering already is)
OUTER_EYE_CORNERS = (36, 45)
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
MOUTH_INNER_VERTICAL = (62, 66)  # upper / lower inner lip midpoints


def _mirror_map() -> tuple:
    """Index of each landmark's left-right counterpart in the 68-point numbering (its own on the midline)."""
    pairs = [(i, 16 - i) for i in range(17)]  # jaw, ear to ear
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(27 + i, 27 + i) for i in range(4)]  # nose bridge
    pairs += [(31 + i, 35 - i) for i in range(5)]  # nose base
    pairs += list(zip((36, 37, 38, 39, 40, 41), (45, 44, 43, 42, 47, 46)))  # eyes: corners and lids
    pairs += [(48 + i, 54 - i) for i in range(7)] + [(55 + i, 59 - i) for i in range(5)]  # outer lip
    pairs += [(60 + i, 64 - i) for i in range(5)] + [(65 + i, 67 - i) for i in range(3)]  # inner lip
    mirror = dict(pairs) | {b: a for a, b in pairs}
    return tuple(mirror[i] for i in range(68))


MIRROR = _mirror_map()  # landmark i of a mirrored face is landmark MIRROR[i] of the original



def _arc(n: int, x0: float, x1: float, y_mid: float, bulge: float, z: float) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    x = x0 + (x1 - x0) * t
    y = y_mid - bulge * np.sin(np.pi * t)
    return np.stack([x, y, np.full(n, z)], axis=1)


def template_face() -> np.ndarray:
    """(68, 3) float64 generic face in mm, nose bridge near the origin, outer eye corners ~96 mm apart."""
    pts = np.zeros((68, 3))
    theta = np.linspace(np.pi, 0.0, 17)  # jaw: ear to ear under the chin
    pts[0:17] = np.stack([72 * np.cos(theta), -12 + 108 * np.sin(theta), 25 + 55 * (1 - np.sin(theta))], 1)
    pts[17:22] = _arc(5, -62, -16, -45, 8, 12)  # right brow (image left)
    pts[22:27] = _arc(5, 16, 62, -45, 8, 12)
    pts[27:31] = np.stack([np.zeros(4), np.linspace(-32, 8, 4), np.linspace(4, -22, 4)], 1)  # bridge to tip
    pts[31:36] = np.stack([np.linspace(-16, 16, 5), [20, 22, 23, 22, 20], [-2, -7, -10, -7, -2]], 1)
    ys = np.array([-22, -27, -27, -22, -18, -18])  # corner, upper lid x2, corner, lower lid x2
    pts[36:42] = np.stack([[-48, -38, -28, -18, -28, -38], ys, np.full(6, 10.0)], 1)  # 36 outer
    pts[42:48] = np.stack([[18, 28, 38, 48, 38, 28], ys, np.full(6, 10.0)], 1)  # 45 outer
    pts[48:60] = np.stack([  # outer lip, from the right corner clockwise
        [-26, -16, -6, 0, 6, 16, 26, 17, 7, 0, -7, -17],
        [52, 46, 43, 44, 43, 46, 52, 59, 62, 63, 62, 59],
        [8, 2, -2, -3, -2, 2, 8, 4, 1, 0, 1, 4]], 1)
    pts[60:68] = np.stack([
        [-20, -6, 0, 6, 20, 6, 0, -6],
        [52, 50, 50, 50, 52, 53, 53, 53],
        [7, 1, 0, 1, 7, 1, 0, 1]], 1)
    return pts


def rotation_matrix(rx: np.ndarray, ry: np.ndarray, rz: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from angles in radians, R = Rz @ Ry @ Rx (pitch, yaw, roll; extrinsic
    x-y-z: scipy's lower-case "xyz")."""
    angles = np.stack(np.broadcast_arrays(np.asarray(rx, float), np.asarray(ry, float), np.asarray(rz, float)), -1)
    return Rotation.from_euler("xyz", angles.reshape(-1, 3)).as_matrix().reshape(angles.shape[:-1] + (3, 3))


def kabsch(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The Kabsch fit: rotations (T, 3, 3) that best map centred ``points`` (T, N, 3) onto centred ``target`` (N, 3)."""
    H = points.transpose(0, 2, 1) @ target  # (T, 3, 3) cross-covariance (batched BLAS, not einsum)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(U @ Vt))  # avoid reflections
    D = np.zeros_like(H)
    D[:, 0, 0] = 1
    D[:, 1, 1] = 1
    D[:, 2, 2] = d
    return Vt.transpose(0, 2, 1) @ D @ U.transpose(0, 2, 1)  # R = V D U^T
