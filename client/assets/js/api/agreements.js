// The agreements service: settlement agreements (drafts, versions, comments, signatures, the
// sealed PDF) and the court's read-only API.
import { download, get, post, put, upload } from "./http.js";

// -- agreements ----------------------------------------------------------------------------

export const list = ({ caseId, token }) => get(`/agreements/agreements?case_id=${caseId}`, { token });

export const getAgreement = (agreementId, { token }) => get(`/agreements/agreements/${agreementId}`, { token });

/** The proposals both sides accepted in the room: the terms of a first draft. */
export const acceptedProposals = (caseId, { token }) => get(`/agreements/cases/${caseId}/accepted-proposals`, { token });

export const create = ({ caseId, language, content, proposalIds }, { token }) =>
  post("/agreements/agreements", { case_id: caseId, language, content, proposal_ids: proposalIds }, { token });

export const saveContent = (agreementId, { baseVersion, content }, { token }) =>
  put(`/agreements/agreements/${agreementId}/content`, { base_version: baseVersion, content }, { token });

export const requestSignatures = (agreementId, { version }, { token }) =>
  post(`/agreements/agreements/${agreementId}/signature-request`, { version }, { token });

/** Sign the exact version sent for signature: its hash is what is signed. */
export const sign = (agreementId, { version, documentHash }, { token }) =>
  post(`/agreements/agreements/${agreementId}/signatures`, { version, document_hash: documentHash }, { token });

/** Sign with a qualified electronic signature: `cms` is NCALayer's detached CMS (base64) over
 * the document hash. */
export const signQualified = (agreementId, { version, documentHash, cms }, { token }) =>
  post(`/agreements/agreements/${agreementId}/signatures`,
    { version, document_hash: documentHash, method: "qualified", qualified: { provider: "kz-nca", cms } }, { token });

/** Which qualified-signature providers the platform verifies, and where NCALayer is. */
export const qualifiedConfig = () => get("/agreements/qualified-signatures");

export const withdrawSignature = (agreementId, { token }) =>
  post(`/agreements/agreements/${agreementId}/signatures/withdraw`, undefined, { token });

export const comments = (agreementId, { token }) => get(`/agreements/agreements/${agreementId}/comments`, { token });

export const addComment = (agreementId, { text }, { token }) =>
  post(`/agreements/agreements/${agreementId}/comments`, { text }, { token });

export const diff = (agreementId, { from, to, token }) =>
  get(`/agreements/agreements/${agreementId}/diff?from=${from}&to=${to}`, { token });

/** Save the sealed PDF. */
export const downloadPdf = (agreementId, { token }) =>
  download(`/agreements/agreements/${agreementId}/pdf`, token, `agreement-${agreementId}.pdf`);

/** The page where anyone checks a signed agreement (the link printed on its PDF). */
export const verifyPage = (documentHash) => `/verify/${documentHash}`;

/** Public: did the platform seal a document with this hash (what the PDF's link opens). */
export const sealLookup = (documentHash) => get(`/agreements/verify/${documentHash}`);

/** Public: is this copy of the PDF genuine and unaltered (byte for byte the one issued)? */
export const verifyPdf = (file) => upload("/agreements/verify", file, { headers: { "Content-Type": "application/pdf" } });

// -- the court's API -----------------------------------------------------------------------

export const courtCases = ({ token }) => get("/agreements/court/v1/cases", { token });

/** One page of the court's feed after the cursor `after` (from the start without it). */
export const courtFeed = ({ after, limit, token }) =>
  get(`/agreements/court/v1/feed?limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ""}`, { token });

export const downloadCourtPdf = (agreementId, { token }) =>
  download(`/agreements/court/v1/agreements/${agreementId}/pdf`, token, `agreement-${agreementId}.pdf`);
